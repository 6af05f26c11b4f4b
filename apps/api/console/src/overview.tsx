import { useState } from 'preact/hooks';
import { ApiError, call, Role } from './api';
import { Confirm } from './confirm';
import { count, READER_REASON } from './format';
import { LiveState, OverviewSample, OverviewStream, useLive } from './live';
import { streamHref } from './router';
import { Sparkline } from './sparkline';

interface Props {
  role: Role;
  onSessionEnded(): void;
}

function rate(r: number | null): string {
  if (r === null) return '–';
  return r < 10 ? r.toFixed(1) : Math.round(r).toLocaleString('en-US');
}

const LIVE_LABEL: Record<LiveState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  paused: 'Paused while hidden',
};

/** Every stream: length, rate with a sparkline, dead letters, and its groups with lag and pending; live. */
export function Overview({ role, onSessionEnded }: Props) {
  const live = useLive(onSessionEnded);
  const [redrive, setRedrive] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string }>();
  const latest = live.samples.at(-1);
  const redriveCount = latest?.streams.find((s) => s.stream === redrive)?.deadLetters ?? 0;

  const confirmRedrive = async (): Promise<void> => {
    if (!redrive) return;
    setBusy(true);
    try {
      const { redriven } = await call<{ redriven: number }>(
        'POST',
        `/ops/streams/${encodeURIComponent(redrive)}/dead-letters/redrive`,
        { all: true },
      );
      setOutcome({ ok: true, text: `${redriven} dead letters of ${redrive} sent back to their groups.` });
    } catch (error) {
      setOutcome({ ok: false, text: error instanceof ApiError ? error.message : String(error) });
    } finally {
      setBusy(false);
      setRedrive(undefined);
    }
  };

  return (
    <section class="overview" aria-labelledby="overview-title">
      <div class="title-row">
        <h2 id="overview-title">Overview</h2>
        <span class={`live live-${live.state}`} role="status" data-live={live.state}>
          {LIVE_LABEL[live.state]}
          {latest && (
            <time dateTime={new Date(latest.time).toISOString()}>
              {' '}
              · {new Date(latest.time).toLocaleTimeString('en-GB')}
            </time>
          )}
        </span>
      </div>
      {live.problem && (
        <p class="banner" role="alert">
          {live.problem}
        </p>
      )}
      {outcome && (
        <p class={outcome.ok ? 'notice' : 'error'} role="status">
          {outcome.text}
        </p>
      )}
      {!latest ? (
        <p class="loading">Waiting for the first sample…</p>
      ) : (
        <div class="streams">
          {latest.streams.map((stream) => (
            <StreamCard
              key={stream.stream}
              stream={stream}
              history={live.samples}
              role={role}
              onRedrive={() => setRedrive(stream.stream)}
            />
          ))}
        </div>
      )}
      {redrive && (
        <Confirm
          title={`Redrive the dead letters of ${redrive}?`}
          confirmLabel="Redrive all"
          busy={busy}
          onConfirm={() => void confirmRedrive()}
          onCancel={() => setRedrive(undefined)}
        >
          <p>
            Every dead letter of {redrive} ({count(redriveCount)} now) goes back to the consumer group that failed it,
            and to no other group.
          </p>
        </Confirm>
      )}
    </section>
  );
}

interface CardProps {
  stream: OverviewStream;
  history: OverviewSample[];
  role: Role;
  onRedrive(): void;
}

function StreamCard({ stream, history, role, onRedrive }: CardProps) {
  const rates = history.map((sample) => sample.streams.find((s) => s.stream === stream.stream)?.rate ?? null);
  const operator = role === 'operator';
  const reasonId = `redrive-reason-${stream.stream}`;
  const reason = !operator ? READER_REASON : stream.deadLetters === 0 ? 'No dead letters.' : undefined;
  return (
    <article class="stream" data-stream={stream.stream} aria-label={`Stream ${stream.stream}`}>
      <h3>
        <a href={streamHref(stream.stream)}>{stream.stream}</a>
      </h3>
      <dl class="figures">
        <div>
          <dt>Length</dt>
          <dd data-field="length">{count(stream.length)}</dd>
        </div>
        <div>
          <dt>Events/s</dt>
          <dd data-field="rate">{rate(stream.rate)}</dd>
        </div>
        <div class="trend">
          <dt>Last {rates.length} samples</dt>
          <dd>
            <Sparkline values={rates} label={`events per second of ${stream.stream}`} />
          </dd>
        </div>
        <div>
          <dt>Dead letters</dt>
          <dd data-field="dead-letters" class={stream.deadLetters > 0 ? 'bad' : undefined}>
            {count(stream.deadLetters)}
          </dd>
        </div>
      </dl>
      <div class="row-actions">
        <button
          type="button"
          class="secondary"
          disabled={reason !== undefined}
          aria-describedby={reason ? reasonId : undefined}
          title={reason}
          onClick={onRedrive}
        >
          Redrive all
        </button>
        {reason && (
          <span class="reason" id={reasonId}>
            {reason}
          </span>
        )}
      </div>
      {stream.groups.length === 0 ? (
        <p class="empty">No consumer groups.</p>
      ) : (
        <table class="groups">
          <caption>Consumer groups</caption>
          <thead>
            <tr>
              <th scope="col">Group</th>
              <th scope="col">Lag</th>
              <th scope="col">Pending</th>
              <th scope="col">Consumers</th>
            </tr>
          </thead>
          <tbody>
            {stream.groups.map((g) => (
              <tr key={g.group} data-group={g.group}>
                <th scope="row">{g.group}</th>
                <td data-field="lag" class={g.lag ? 'warn' : undefined}>
                  {count(g.lag)}
                </td>
                <td data-field="pending" class={g.pending ? 'warn' : undefined}>
                  {count(g.pending)}
                </td>
                <td data-field="consumers">{count(g.consumers)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </article>
  );
}
