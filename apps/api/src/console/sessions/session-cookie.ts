import { SESSION_COOKIE } from '../console.constants';

interface CookieRequest {
  headers: Record<string, string | string[] | undefined>;
}

/** The session id in the request's `Cookie` header, if any. */
export function sessionIdOf(request: CookieRequest): string | undefined {
  const header = request.headers.cookie;
  const cookies = Array.isArray(header) ? header.join('; ') : header;
  if (!cookies) return undefined;
  for (const part of cookies.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === SESSION_COOKIE) {
      const value = part.slice(at + 1).trim();
      return value || undefined;
    }
  }
  return undefined;
}

/** `Set-Cookie` of a session: HttpOnly, SameSite=Strict, Path=/; Secure when asked. */
export function sessionCookie(id: string, maxAgeMs: number, secure: boolean): string {
  const attributes = [
    `${SESSION_COOKIE}=${id}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${Math.max(0, Math.floor(maxAgeMs / 1000))}`,
  ];
  if (secure) attributes.push('Secure');
  return attributes.join('; ');
}

/** `Set-Cookie` that removes the session cookie. */
export function clearedSessionCookie(secure: boolean): string {
  return sessionCookie('', 0, secure);
}
