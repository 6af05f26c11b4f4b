import { CSRF_HEADER } from '../console.constants';

interface HeaderedRequest {
  headers: Record<string, string | string[] | undefined>;
}

function header(request: HeaderedRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Why a cookie-authenticated write may have come from another site, or undefined when it is the
 * console's own: it must carry the CSRF header (which a cross-site page cannot send without a CORS
 * preflight, never granted) and an `Origin` whose host is the one the request was sent to.
 */
export function crossSiteProblem(request: HeaderedRequest): string | undefined {
  if (header(request, CSRF_HEADER) === undefined)
    return `a change made with a console session needs the ${CSRF_HEADER} header`;
  const origin = header(request, 'origin');
  if (!origin) return 'a change made with a console session needs an Origin header';
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return `malformed Origin header "${origin.slice(0, 100)}"`;
  }
  if (host !== header(request, 'host')) return `refused: the request comes from another site (Origin ${origin})`;
  return undefined;
}
