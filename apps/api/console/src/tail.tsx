import { useState } from 'preact/hooks';
import { EntryRow } from './messages';
import { LiveState, useLive } from './live';

interface Props {
  stream: string;
  onSessionEnded(): void;
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
export function Tail({ stream, onSessionEnded }: Props) {
  const [on, setOn] = useState(false);
  return (
    <section class="messages tail" aria-labelledby="tail-title">
      <div class="title-row">
        <h3 id="tail-title">Live tail</h3>
        <button type="button" class="secondary" aria-pressed={on} onClick={() => setOn(!on)}>
          {on ? 'Stop the tail' : 'Start the tail'}
        </button>
      </div>
      {on ? (
        <TailView stream={stream} onSessionEnded={onSessionEnded} />
      ) : (
        <p class="hint">New entries of {stream} appear here as they are appended, without a reload.</p>
      )}
    </section>
  );
}

function TailView({ stream, onSessionEnded }: Props) {
  const live = useLive(onSessionEnded, stream);
  const [open, setOpen] = useState<string>();
  return (
    <>
      <p class={`live live-${live.state}`} role="status" data-tail={live.state}>
        {TAIL_LABEL[live.state]} · {live.entries.length} entries since the tail started
      </p>
      {live.problem && (
        <p class="banner" role="alert">
          {live.problem}
        </p>
      )}
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
