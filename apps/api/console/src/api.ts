/** The header the server requires on every change made with the session cookie (see the CSRF defence). */
export const CSRF_HEADER = 'x-console-csrf';

export type Role = 'reader' | 'operator';

export interface Session {
  signedIn: true;
  role: Role;
  expiresAt: number;
  idleTimeoutMs: number;
}

/** An error answer of the server, in the one shape of /ops. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Listener = () => void;
const signedOutListeners = new Set<Listener>();

/** Called whenever the server answers 401: the session has ended. */
export function onSignedOut(listener: Listener): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

/**
 * A same-origin JSON call. The session travels in its HttpOnly cookie, never in a header this
 * code could read; changes carry the CSRF header (and the browser adds Origin).
 */
export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers[CSRF_HEADER] = '1';
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    cache: 'no-store',
  });
  if (response.status === 204) return undefined as T;
  const payload = (await response.json().catch(() => ({}))) as { message?: string };
  if (!response.ok) {
    if (response.status === 401 && !path.endsWith('/session')) for (const listener of signedOutListeners) listener();
    throw new ApiError(response.status, payload.message ?? `${response.status} ${response.statusText}`);
  }
  return payload as T;
}

export const sessionApi = {
  current: () => call<Session | { signedIn: false }>('GET', '/console/api/session'),
  signIn: (apiKey: string) => call<Session>('POST', '/console/api/session', { apiKey }),
  signOut: () => call<void>('DELETE', '/console/api/session'),
};
