import { useEffect, useRef, useState } from 'preact/hooks';
import { call, Role } from './api';
import { count, errorText, Outcome, READER_REASON, streamPath } from './format';
import type { EntryPage, Group, PositionPreview, StreamEntry } from './ops-types';

interface Props {
  stream: string;
  group: Group;
  /** A reader may preview a move, not make it. */
  role: Role;
  /** The outcome of the move, or nothing when cancelled. */
  onDone(outcome?: Outcome): void;
}

/** Entries shown of those a move would deliver again or skip. */
const SAMPLE = 5;

const bare = (id: string): string => id.replace(/^p\d+\//, '');

/**
 * Moves a group's position to an entry id or a time, in two steps: Preview asks the server what
 * the move would do (entries delivered again, or never delivered) and shows the first of them;
 * only then does Move do it. A reader may preview; Move stays disabled for them, with the reason.
 */
export function MovePosition({ stream, group, role, onDone }: Props) {
  const operator = role === 'operator';
  const [by, setBy] = useState<'time' | 'id'>('time');
  const [value, setValue] = useState('');
  const [preview, setPreview] = useState<{ at: PositionPreview; sample: StreamEntry[] }>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const field = useRef<HTMLInputElement>(null);
  useEffect(() => field.current?.focus(), [by]);
  // NOTE: on the document, not the dialog: a button disabled while it works drops the focus to the body.
  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (event.key === 'Escape' && !busy) onDone();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [busy, onDone]);
  const path = `${streamPath(stream)}/groups/${encodeURIComponent(group.group)}/position`;
  const target = (): Record<string, string> => ({ [by]: value.trim() });

  const look = async (event: Event): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setPreview(undefined);
    try {
      const at = await call<PositionPreview>('GET', `${path}/preview?${new URLSearchParams(target()).toString()}`);
      // The entries between the two positions: those delivered again (back) or skipped (forward).
      const back = at.replay > 0;
      const [low, high] = back ? [at.lastDeliveredId, at.from] : [at.from, at.lastDeliveredId];
      const query = new URLSearchParams({
        order: 'oldest',
        count: String(SAMPLE + 1),
        from: bare(low),
        to: bare(high),
      });
      const page = await call<EntryPage>('GET', `${streamPath(stream)}/entries?${query.toString()}`);
      setPreview({ at, sample: page.entries.filter((e) => bare(e.id) !== bare(low)).slice(0, SAMPLE) });
    } catch (caught) {
      setError(errorText(caught));
    } finally {
      setBusy(false);
    }
  };

  const move = async (): Promise<void> => {
    setBusy(true);
    try {
      const moved = await call<{ lastDeliveredId: string; redeliver: number }>('POST', path, {
        ...target(),
        confirm: true,
      });
      onDone({
        ok: true,
        text: `Group ${group.group} moved to ${moved.lastDeliveredId}: ${count(moved.redeliver)} entries follow it.`,
      });
    } catch (caught) {
      setError(errorText(caught));
      setBusy(false);
    }
  };

  const p = preview?.at;
  return (
    <div class="backdrop">
      <div class="dialog wide" role="dialog" aria-modal="true" aria-labelledby="move-title">
        <h2 id="move-title">Move the position of group {group.group}</h2>
        <p>
          Now after <code>{group.lastDeliveredId}</code>.
        </p>
        <form class="move" onSubmit={(e) => void look(e)}>
          <fieldset>
            <legend>Move to</legend>
            <label>
              <input type="radio" name="by" checked={by === 'time'} onChange={() => setBy('time')} /> a time (entries at
              or after it are delivered)
            </label>
            <label>
              <input type="radio" name="by" checked={by === 'id'} onChange={() => setBy('id')} /> an entry id (entries
              after it are delivered)
            </label>
          </fieldset>
          <label for="move-to">{by === 'time' ? 'Time (ISO 8601, UTC)' : 'Entry id'}</label>
          <input
            ref={field}
            id="move-to"
            required
            value={value}
            placeholder={by === 'time' ? '2025-01-31T12:00:00Z' : '1735689600000-0'}
            onInput={(e) => {
              setValue((e.currentTarget as HTMLInputElement).value);
              setPreview(undefined);
            }}
          />
          <button type="submit" class="secondary" disabled={busy}>
            Preview
          </button>
        </form>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        {p && (
          <div class="preview" data-preview role="status">
            <p>
              From <code>{p.from}</code> to <code>{p.lastDeliveredId}</code>: {count(p.redeliver)} entries follow the
              new position. {p.replay > 0 && <strong>{count(p.replay)} would be delivered again.</strong>}
              {p.skip > 0 && <strong>{count(p.skip)} would be skipped, never delivered.</strong>}
              {p.replay === 0 && p.skip === 0 && 'Nothing would be delivered again or skipped.'}
            </p>
            {preview.sample.length > 0 && (
              <ul class="sample">
                {preview.sample.map((e) => (
                  <li key={e.id}>
                    <code>{e.id}</code> {e.type} {e.subject}
                  </li>
                ))}
              </ul>
            )}
          </div>
        )}
        <div class="actions">
          <button type="button" class="secondary" onClick={() => onDone()} disabled={busy}>
            Cancel
          </button>
          {!operator && (
            <span class="reason" id="move-reason">
              {READER_REASON}
            </span>
          )}
          <button
            type="button"
            class="danger"
            onClick={() => void move()}
            disabled={busy || !p || !operator}
            title={operator ? undefined : READER_REASON}
            aria-describedby={operator ? undefined : 'move-reason'}
          >
            Move
          </button>
        </div>
      </div>
    </div>
  );
}
