import { useEffect, useState } from 'preact/hooks';
import type { OverviewSample, TailEntry } from '../../src/console/live/overview-sample';

export type { OverviewGroup, OverviewSample, OverviewStream, TailEntry } from '../../src/console/live/overview-sample';

/** Samples a sparkline draws. */
export const SPARK_SAMPLES = 60;
/** Entries of a tail kept on the page. */
export const TAIL_KEPT = 200;

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'paused';

export interface Live {
  state: LiveState;
  /** The newest samples, oldest first. */
  samples: OverviewSample[];
  /** With a tail: the newest entries of the stream, oldest first. */
  entries: TailEntry[];
  problem?: string;
}

/**
 * The tab's one live stream (`/console/api/live`, Server-Sent Events), with `tail` the entries
 * appended to that stream too. The browser reconnects by itself with Last-Event-ID; while the tab
 * is hidden the stream is closed, and reopened with `?after=` the last event id seen, so nothing in
 * between is lost either way.
 */
export function useLive(onSessionEnded: () => void, tail?: string): Live {
  const [live, setLive] = useState<Live>({ state: 'connecting', samples: [], entries: [] });

  useEffect(() => {
    let source: EventSource | undefined;
    let lastId: string | undefined;
    setLive((l) => ({ ...l, state: 'connecting', entries: [] }));

    const open = (): void => {
      const query = new URLSearchParams();
      if (tail !== undefined) query.set('tail', tail);
      if (lastId !== undefined) query.set('after', lastId);
      const search = query.toString();
      source = new EventSource(`/console/api/live${search ? `?${search}` : ''}`);
      source.addEventListener('open', () => setLive((l) => ({ ...l, state: 'live' })));
      source.addEventListener('error', () => {
        if (source?.readyState === EventSource.CLOSED) {
          // NOTE: the server refused the stream (401 once the session is gone): the browser does not retry that.
          source = undefined;
          onSessionEnded();
        } else setLive((l) => ({ ...l, state: 'reconnecting' }));
      });
      source.addEventListener('sample', (event) => {
        const sample = JSON.parse((event as MessageEvent<string>).data) as OverviewSample;
        lastId = (event as MessageEvent<string>).lastEventId;
        setLive((l) => ({
          ...l,
          state: 'live',
          problem: undefined,
          samples: [...l.samples.filter((s) => s.time < sample.time), sample].slice(-SPARK_SAMPLES),
        }));
      });
      source.addEventListener('entry', (event) => {
        const entry = JSON.parse((event as MessageEvent<string>).data) as TailEntry;
        lastId = (event as MessageEvent<string>).lastEventId;
        setLive((l) => ({ ...l, entries: [...l.entries, entry].slice(-TAIL_KEPT) }));
      });
      source.addEventListener('problem', (event) => {
        const { message } = JSON.parse((event as MessageEvent<string>).data) as { message: string };
        setLive((l) => ({ ...l, problem: message }));
      });
      source.addEventListener('session', () => {
        source?.close();
        source = undefined;
        onSessionEnded();
      });
    };
    const close = (): void => {
      source?.close();
      source = undefined;
    };
    const onVisibility = (): void => {
      if (document.hidden) {
        close();
        setLive((l) => ({ ...l, state: 'paused' }));
      } else if (!source) open();
    };

    open();
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      document.removeEventListener('visibilitychange', onVisibility);
      close();
    };
  }, [onSessionEnded, tail]);

  return live;
}
