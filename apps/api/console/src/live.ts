import { useEffect, useState } from 'preact/hooks';
import type { OverviewSample } from '../../src/console/live/overview-sample';

export type { OverviewGroup, OverviewSample, OverviewStream } from '../../src/console/live/overview-sample';

/** Samples a sparkline draws. */
export const SPARK_SAMPLES = 60;

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'paused';

export interface Live {
  state: LiveState;
  /** The newest samples, oldest first. */
  samples: OverviewSample[];
  problem?: string;
}

/**
 * The tab's one live stream (`/console/api/live`, Server-Sent Events). The browser reconnects by
 * itself with Last-Event-ID; while the tab is hidden the stream is closed, and reopened with
 * `?after=` the last sample seen, so nothing in between is lost either way.
 */
export function useLive(onSessionEnded: () => void): Live {
  const [live, setLive] = useState<Live>({ state: 'connecting', samples: [] });

  useEffect(() => {
    let source: EventSource | undefined;
    let lastTime: number | undefined;

    const open = (): void => {
      source = new EventSource(`/console/api/live${lastTime === undefined ? '' : `?after=${lastTime}`}`);
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
        lastTime = sample.time;
        setLive((l) => ({
          state: 'live',
          samples: [...l.samples.filter((s) => s.time < sample.time), sample].slice(-SPARK_SAMPLES),
        }));
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
  }, [onSessionEnded]);

  return live;
}
