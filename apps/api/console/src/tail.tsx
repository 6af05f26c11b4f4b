import { useState } from 'preact/hooks';
import type { Live, LiveState } from './live';
import { EntryRow } from './messages';

interface Props {
  stream: string;
  /** The tab's live stream, tailing `stream` while `on`. */
  live: Live;
  on: boolean;
  onToggle(): void;
}

const TAIL_LABEL: Record<LiveState, string> = {
  connecting: 'Connecting…',
  live: 'Tailing',
  reconnecting: 'Reconnecting…',
  paused: 'Paused while hidden',
};

/**
 * The entries appended to a stream while the tail is on, newest first, over the tab's one live
 * stream. It reads with XREAD: it joins no consumer group and moves none.
 */
export function Tail({ stream, live, on, onToggle }: Props) {
  return (
    <section class="messages tail" aria-labelledby="tail-title">
      <div class="title-row">
        <h3 id="tail-title">Live tail</h3>
        <button type="button" class="secondary" aria-pressed={on} onClick={onToggle}>
          {on ? 'Stop the tail' : 'Start the tail'}
        </button>
      </div>
      {on ? (
        <TailView live={live} />
      ) : (
        <p class="hint">New entries of {stream} appear here as they are appended, without a reload.</p>
      )}
    </section>
  );
}

function TailView({ live }: { live: Live }) {
  const [open, setOpen] = useState<string>();
  return (
    <>
      <p class={`live live-${live.state}`} role="status" data-tail={live.state}>
        {TAIL_LABEL[live.state]} · {live.entries.length} entries since the tail started
      </p>
      {live.entries.length > 0 && (
        <table class="groups entries" data-tail-entries>
          <thead>
            <tr>
              <th scope="col">Entry</th>
              <th scope="col">Time</th>
              <th scope="col">Type</th>
              <th scope="col">Subject</th>
              <th scope="col">Source</th>
            </tr>
          </thead>
          <tbody>
            {[...live.entries].reverse().map((entry) => (
              <EntryRow
                key={entry.id}
                entry={entry}
                open={open === entry.id}
                onToggle={() => setOpen(open === entry.id ? undefined : entry.id)}
              />
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
