import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { InjectStore, ServiceStore } from '@app/platform';
import { CONSOLE_SETTINGS, ConsoleSettings } from '../console-settings';

/** A live console session. */
export interface ConsoleSession {
  /** sha256 of the API key it was opened with: its role is looked up from the keys configured now. */
  keyDigest: string;
  createdAt: number;
  /** When it ends unless used before: the idle timeout from its last use, capped by the absolute one. */
  expiresAt: number;
}

/**
 * Console sessions in Redis, one hash per session under `<ns>:svc:console:session:<sha256 of the
 * id>` (the id itself, 32 random bytes, is only in the browser's cookie). Each use moves the
 * idle expiry; none moves it past `sessionMaxMs` after sign-in. Ending one deletes it, so a
 * copied cookie is useless from then on.
 */
@Injectable()
export class ConsoleSessions {
  constructor(
    @InjectStore() private readonly store: ServiceStore,
    @Inject(CONSOLE_SETTINGS) private readonly settings: ConsoleSettings,
  ) {}

  /** Opens a session for the key with this digest; returns its id, for the cookie only. */
  async open(keyDigest: string): Promise<{ id: string; session: ConsoleSession }> {
    const id = randomBytes(32).toString('base64url');
    const now = Date.now();
    const ttl = Math.min(this.settings.sessionIdleMs, this.settings.sessionMaxMs);
    await this.store.redis
      .multi()
      .hset(this.keyOf(id), 'key', keyDigest, 'created', now)
      .pexpire(this.keyOf(id), ttl)
      .exec();
    return { id, session: { keyDigest, createdAt: now, expiresAt: now + ttl } };
  }

  /** The session, its idle expiry moved forward; undefined when it does not exist (any more). */
  async use(id: string): Promise<ConsoleSession | undefined> {
    const session = await this.peek(id);
    if (!session) return undefined;
    const now = Date.now();
    const ttl = Math.min(this.settings.sessionIdleMs, session.createdAt + this.settings.sessionMaxMs - now);
    if (ttl <= 0) {
      await this.end(id);
      return undefined;
    }
    await this.store.redis.pexpire(this.keyOf(id), ttl);
    return { ...session, expiresAt: now + ttl };
  }

  /** The session as it is, without counting this as a use (the live stream checks it this way). */
  async peek(id: string): Promise<ConsoleSession | undefined> {
    if (!isSessionId(id)) return undefined;
    const key = this.keyOf(id);
    const [[, record], [, ttl]] = (await this.store.redis.multi().hgetall(key).pttl(key).exec()) as [
      [Error | null, Record<string, string>],
      [Error | null, number],
    ];
    const createdAt = Number(record?.created);
    if (!record?.key || !Number.isFinite(createdAt) || ttl <= 0) return undefined;
    if (Date.now() - createdAt >= this.settings.sessionMaxMs) {
      await this.end(id);
      return undefined;
    }
    return { keyDigest: record.key, createdAt, expiresAt: Date.now() + ttl };
  }

  async end(id: string): Promise<void> {
    if (isSessionId(id)) await this.store.redis.del(this.keyOf(id));
  }

  /** Counts a failed sign-in from `address` in the current minute; answers the count so far. */
  async failedSignIn(address: string): Promise<number> {
    const key = this.failuresKey(address);
    const replies = await this.store.redis.multi().set(key, 0, 'PX', 60_000, 'NX').incr(key).exec();
    return Number(replies?.[1]?.[1] ?? 0);
  }

  /** Whether `address` has used up its failed sign-ins for this minute. */
  async signInBlocked(address: string): Promise<boolean> {
    const count = Number(await this.store.redis.get(this.failuresKey(address)));
    return count >= this.settings.signInFailuresPerMinute;
  }

  private keyOf(id: string): string {
    return this.store.key('session', createHash('sha256').update(id).digest('hex'));
  }

  private failuresKey(address: string): string {
    return this.store.key('sign-in-failures', createHash('sha256').update(address).digest('hex').slice(0, 32));
  }
}

/** 32 random bytes in base64url. */
function isSessionId(id: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(id);
}
