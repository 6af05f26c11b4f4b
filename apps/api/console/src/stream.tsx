import { useCallback, useEffect, useState } from 'preact/hooks';
import { useLive } from './live';
import { call, Role } from './api';
import { count, duration, errorText, Outcome, streamPath } from './format';
import { Messages } from './messages';
import { MovePosition } from './move-position';
import type { Group } from './ops-types';
import { PendingEntries } from './pending';
import { Tail } from './tail';

interface Props {
  stream: string;
  role: Role;
  onSessionEnded(): void;
}

/**
 * One stream: its consumer groups with their consumers, pending entries and position (read again
 * whenever a live sample shows them changed); its messages; its live tail.
 */
export function StreamPage({ stream, role, onSessionEnded }: Props) {
  const [groups, setGroups] = useState<Group[]>();
  const [error, setError] = useState<string>();
  const [outcome, setOutcome] = useState<Outcome>();
  const [moving, setMoving] = useState<Group>();
  const [version, setVersion] = useState(0);
  const [tailing, setTailing] = useState(false);
  // The tab's one live stream: its samples say when this stream's groups changed, and it carries the tail.
  const live = useLive(onSessionEnded, tailing ? stream : undefined);
  const sampled = JSON.stringify(live.samples.at(-1)?.streams.find((s) => s.stream === stream)?.groups ?? null);

  const reload = useCallback(() => {
    call<Group[]>('GET', `${streamPath(stream)}/groups`).then(
      (answer) => {
        setGroups(answer);
        setError(undefined);
        setVersion((v) => v + 1);
      },
      (caught: unknown) => setError(errorText(caught)),
    );
  }, [stream]);
  useEffect(reload, [reload, sampled]);

  const done = (result: Outcome): void => {
    setOutcome(result);
    reload();
  };
  const operator = role === 'operator';

  return (
    <section class="stream-page" aria-labelledby="stream-title" data-stream-page={stream}>
      <div class="title-row">
        <a href="#/">Overview</a>
        <h2 id="stream-title">Stream {stream}</h2>
        <button type="button" class="secondary" onClick={reload}>
          Refresh
        </button>
      </div>
      {live.problem && (
        <p class="banner" role="alert">
          {live.problem}
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {outcome && (
        <p class={outcome.ok ? 'notice' : 'error'} role="status">
          {outcome.text}
        </p>
      )}
      {!groups ? (
        !error && <p class="loading">Loading the groups…</p>
      ) : groups.length === 0 ? (
        <p class="empty">No consumer groups.</p>
      ) : (
        <div class="group-grid">
          {groups.map((g) => (
            <article class="group" key={g.group} data-group={g.group} aria-label={`Group ${g.group}`}>
              <h3>Group {g.group}</h3>
              <dl class="figures">
                <div>
                  <dt>Lag</dt>
                  <dd data-field="lag" class={g.lag ? 'warn' : undefined}>
                    {count(g.lag)}
                  </dd>
                </div>
                <div>
                  <dt>Pending</dt>
                  <dd data-field="pending" class={g.pending ? 'warn' : undefined}>
                    {count(g.pending)}
                  </dd>
                </div>
                <div>
                  <dt>Last delivered</dt>
                  <dd data-field="last-delivered">
                    <code>{g.lastDeliveredId}</code>
                  </dd>
                </div>
              </dl>
              <div class="row-actions">
                <button type="button" class="secondary" onClick={() => setMoving(g)}>
                  {operator ? 'Move position' : 'Preview a move'}
                </button>
              </div>
              {g.consumers.length === 0 ? (
                <p class="empty">No consumers.</p>
              ) : (
                <table class="groups">
                  <caption>Consumers</caption>
                  <thead>
                    <tr>
                      <th scope="col">Consumer</th>
                      <th scope="col">Pending</th>
                      <th scope="col">Idle</th>
                    </tr>
                  </thead>
                  <tbody>
                    {g.consumers.map((c) => (
                      <tr key={`${c.partition ?? ''}/${c.name}`} data-consumer={c.name}>
                        <th scope="row">
                          {c.name}
                          {c.partition !== undefined && <span class="muted"> (partition {c.partition})</span>}
                        </th>
                        <td data-field="pending">{count(c.pending)}</td>
                        <td data-field="idle">{duration(c.idleMs)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              <PendingEntries stream={stream} group={g} role={role} version={version} onDone={done} />
            </article>
          ))}
        </div>
      )}
      <Messages stream={stream} />
      <Tail stream={stream} live={live} on={tailing} onToggle={() => setTailing(!tailing)} />
      {moving && (
        <MovePosition
          stream={stream}
          group={moving}
          role={role}
          onDone={(result) => {
            setMoving(undefined);
            if (result) done(result);
          }}
        />
      )}
    </section>
  );
}
