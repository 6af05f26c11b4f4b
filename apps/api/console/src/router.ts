import { useEffect, useState } from 'preact/hooks';

export type Route = { screen: 'overview' } | { screen: 'stream'; stream: string };

/** The screen a location hash names: `#/` the overview, `#/streams/<name>` a stream. */
export function parseRoute(hash: string): Route {
  const stream = /^#\/streams\/([^/]+)$/.exec(hash)?.[1];
  if (stream !== undefined) {
    try {
      return { screen: 'stream', stream: decodeURIComponent(stream) };
    } catch {
      // NOTE: a malformed escape in a typed URL: the overview.
    }
  }
  return { screen: 'overview' };
}

export function streamHref(stream: string): string {
  return `#/streams/${encodeURIComponent(stream)}`;
}

/** The current route, following the hash. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onHash = (): void => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  return route;
}
