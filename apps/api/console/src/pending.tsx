import { useEffect, useState } from 'preact/hooks';
import { call, Role } from './api';
import { Confirm } from './confirm';
import { count, duration, errorText, Outcome, READER_REASON, streamPath } from './format';
import type { Group, PendingEntry } from './ops-types';

type Kind = 'claim' | 'ack' | 'dead-letter';

const LABEL: Record<Kind, string> = { claim: 'Claim', ack: 'Acknowledge', 'dead-letter': 'Dead-letter' };

interface Props {
  stream: string;
  group: Group;
  role: Role;
  /** Changes whenever the groups were read again: the pending entries are read again too. */
  version: number;
  onDone(outcome: Outcome): void;
}

/** A group's pending entries (delivered, not acknowledged), oldest first, each with claim, acknowledge and dead-letter. */
export function PendingEntries({ stream, group, role, version, onDone }: Props) {
  const [entries, setEntries] = useState<PendingEntry[]>();
  const [error, setError] = useState<string>();
  const [action, setAction] = useState<{ kind: Kind; entry: PendingEntry }>();
  const [consumer, setConsumer] = useState('ops-recovery');
  const [busy, setBusy] = useState(false);
  const path = `${streamPath(stream)}/groups/${encodeURIComponent(group.group)}/pending`;

  useEffect(() => {
    if (group.pending === 0) return setEntries([]);
    call<PendingEntry[]>('GET', `${path}?count=100`).then(setEntries, (caught: unknown) => setError(errorText(caught)));
  }, [path, group.pending, version]);

  const operator = role === 'operator';
  const reasonId = `pending-reason-${group.group}`;

  const act = async (): Promise<void> => {
    if (!action) return;
    const { kind, entry } = action;
    setBusy(true);
    try {
      const url = `${path}/${encodeURIComponent(entry.id)}/${kind}`;
      const body = kind === 'claim' ? { consumer } : kind === 'dead-letter' ? { reason: 'operator' } : undefined;
      await call('POST', url, body);
      const what = { claim: `claimed by ${consumer}`, ack: 'acknowledged', 'dead-letter': 'dead-lettered' }[kind];
      onDone({ ok: true, text: `Entry ${entry.id} of group ${group.group} ${what}.` });
    } catch (caught) {
      onDone({ ok: false, text: errorText(caught) });
    } finally {
      setBusy(false);
      setAction(undefined);
    }
  };

  if (error)
    return (
      <p class="error" role="alert">
        {error}
      </p>
    );
  if (!entries || entries.length === 0) return null;
  return (
    <>
      <table class="groups pending" data-pending={group.group}>
        <caption>
          Pending entries ({count(group.pending)}
          {group.pending > entries.length ? `, the oldest ${entries.length} shown` : ''})
          {!operator && (
            <span class="reason" id={reasonId}>
              {' '}
              {READER_REASON}
            </span>
          )}
        </caption>
        <thead>
          <tr>
            <th scope="col">Entry</th>
            <th scope="col">Consumer</th>
            <th scope="col">Idle</th>
            <th scope="col">Deliveries</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => (
            <tr key={entry.id} data-entry={entry.id}>
              <th scope="row">
                <code>{entry.id}</code>
              </th>
              <td data-field="consumer">{entry.consumer}</td>
              <td>{duration(entry.idleMs)}</td>
              <td>{count(entry.deliveries)}</td>
              <td class="row-actions">
                {(['claim', 'ack', 'dead-letter'] as const).map((kind) => (
                  <button
                    key={kind}
                    type="button"
                    class="secondary small"
                    disabled={!operator}
                    title={operator ? undefined : READER_REASON}
                    aria-describedby={operator ? undefined : reasonId}
                    onClick={() => setAction({ kind, entry })}
                  >
                    {LABEL[kind]}
                  </button>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {action && (
        <Confirm
          title={`${LABEL[action.kind]} entry ${action.entry.id}?`}
          confirmLabel={LABEL[action.kind]}
          busy={busy}
          onConfirm={() => void act()}
          onCancel={() => setAction(undefined)}
        >
          {action.kind === 'claim' && (
            <>
              <p>
                The entry, pending with {action.entry.consumer}, goes to another consumer of group {group.group}; it is
                delivered to that consumer only if it reads its pending entries.
              </p>
              <label for="claim-consumer">Consumer</label>
              <input
                id="claim-consumer"
                value={consumer}
                pattern="[A-Za-z0-9._:\-]{1,200}"
                onInput={(e) => setConsumer((e.currentTarget as HTMLInputElement).value)}
              />
            </>
          )}
          {action.kind === 'ack' && (
            <p>
              Group {group.group} acknowledges the entry without handling it: it is never delivered to this group again.
            </p>
          )}
          {action.kind === 'dead-letter' && (
            <p>
              The entry goes to the dead letters of {stream} (reason "operator") and group {group.group} acknowledges
              it; a redrive delivers it to this group again.
            </p>
          )}
        </Confirm>
      )}
    </>
  );
}
