import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { EventBusCore } from '@nest-streams/event-bus';
import { createHash } from 'node:crypto';
import { apiKeyOf } from './api-key.guard';
import { OpsApiKeys } from './ops-api-keys';

/**
 * Rate limit of `/ops` (`OPS_RATE_LIMIT` per minute, across every /ops route): per key for known
 * keys, per client IP otherwise, so guessing keys is limited by address and one client cannot
 * starve another key. Counted in Redis (ThrottlerStorageRedisService in OpsModule), so every
 * instance of the platform shares one budget per key; while Redis is down, /ops answers 503.
 */
@Injectable()
export class OpsThrottlerGuard extends ThrottlerGuard {
  // NOTE: property injection: the constructor's parameters belong to ThrottlerGuard.
  @Inject(OpsApiKeys) private readonly apiKeys!: OpsApiKeys;
  @Inject(EventBusCore) private readonly core!: EventBusCore;

  /** One budget for all of /ops (the default is one per route), per namespace. */
  protected override generateKey(_context: ExecutionContext, tracker: string, throttler: string): string {
    return `${this.core.keys.namespace}:ops:${throttler}:${tracker}`;
  }

  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    const request = req as unknown as Parameters<typeof apiKeyOf>[0] & { ip?: string };
    const key = apiKeyOf(request);
    if (key && this.apiKeys.roleOf(key)) return `key:${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
    return `ip:${request.ip ?? 'unknown'}`;
  }
}
