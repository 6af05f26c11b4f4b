import { Injectable } from '@nestjs/common';
import { API_KEY_HEADER } from '@app/platform';
import { ConsoleSessions } from '../../console/sessions/console-sessions';
import { sessionIdOf } from '../../console/sessions/session-cookie';
import { keyDigest, OpsApiKeys, OpsRole } from './ops-api-keys';

/** Who sent a request to `/ops`. */
export interface OpsCaller {
  role: OpsRole;
  /** sha256 of the key: the rate limit's budget is per key, however it was presented. */
  keyDigest: string;
  /** `x-api-key`, or the console's session cookie (whose writes need the CSRF checks). */
  via: 'api-key' | 'session';
}

export interface KeyedRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
}

/** The key sent in `x-api-key` (the first one, if the header is repeated). */
export function apiKeyOf(request: KeyedRequest): string | undefined {
  const value = request.headers[API_KEY_HEADER];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Resolves the caller of a request once (the rate limiter and the key guard both ask): the
 * `x-api-key` header when there is one, else the console session cookie, each use of which
 * moves the session's idle expiry. The role is always the one the key has now.
 */
@Injectable()
export class OpsCallers {
  private readonly resolved = new WeakMap<object, Promise<OpsCaller | undefined>>();

  constructor(
    private readonly keys: OpsApiKeys,
    private readonly sessions: ConsoleSessions,
  ) {}

  resolve(request: KeyedRequest): Promise<OpsCaller | undefined> {
    let caller = this.resolved.get(request);
    if (!caller) {
      caller = this.lookup(request);
      this.resolved.set(request, caller);
    }
    return caller;
  }

  private async lookup(request: KeyedRequest): Promise<OpsCaller | undefined> {
    const key = apiKeyOf(request);
    if (key !== undefined) {
      const role = this.keys.roleOf(key);
      return role ? { role, keyDigest: keyDigest(key), via: 'api-key' } : undefined;
    }
    const id = sessionIdOf(request);
    if (!id) return undefined;
    const session = await this.sessions.use(id);
    const role = session && this.keys.roleOfDigest(session.keyDigest);
    return role ? { role, keyDigest: session.keyDigest, via: 'session' } : undefined;
  }
}
