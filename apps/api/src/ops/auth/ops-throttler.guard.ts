import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { EventBusCore } from '@nest-streams/event-bus';
import { KeyedRequest, OpsCallers } from './ops-callers';

/**
 * Rate limit of `/ops` (`OPS_RATE_LIMIT` per minute, across every /ops route): per key for known
 * keys (sent as `x-api-key` or behind a console session: one budget per key either way), per
 * client IP otherwise, so guessing keys is limited by address and one client cannot starve
 * another key. Counted in Redis (ThrottlerStorageRedisService in OpsModule), so every instance of
 * the platform shares one budget per key; while Redis is down, /ops answers 503.
 */
@Injectable()
export class OpsThrottlerGuard extends ThrottlerGuard {
  // NOTE: property injection: the constructor's parameters belong to ThrottlerGuard.
  @Inject(OpsCallers) private readonly callers!: OpsCallers;
  @Inject(EventBusCore) private readonly core!: EventBusCore;

  /** One budget for all of /ops (the default is one per route), per namespace. */
  protected override generateKey(_context: ExecutionContext, tracker: string, throttler: string): string {
    return `${this.core.keys.namespace}:ops:${throttler}:${tracker}`;
  }

  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    const request = req as unknown as KeyedRequest & { ip?: string };
    const caller = await this.callers.resolve(request);
    if (caller) return `key:${caller.keyDigest.slice(0, 32)}`;
    return `ip:${request.ip ?? 'unknown'}`;
  }
}
