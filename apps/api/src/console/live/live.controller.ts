import {
  Controller,
  Headers,
  HttpException,
  HttpStatus,
  MessageEvent,
  Query,
  Req,
  Sse,
  UseGuards,
} from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Observable } from 'rxjs';
import { apiKeyOf, KeyedRequest, OpsCallers } from '../../ops/auth/ops-callers';
import { ConsoleSessionGuard } from '../sessions/console-session.guard';
import { ConsoleSessions } from '../sessions/console-sessions';
import { sessionIdOf } from '../sessions/session-cookie';
import type { LiveEvents } from './overview-sample';
import { OverviewSampler, SamplerEvent } from './overview-sampler';

/** A comment every this often keeps proxies and the browser from closing a quiet stream. */
export const HEARTBEAT_MS = 15_000;
/** How often an open stream checks that its session still exists. */
export const SESSION_CHECK_MS = 2_000;
/** The browser's reconnection delay after a dropped stream. */
export const RECONNECT_MS = 1_000;
/** Open live streams per key (a tab has one), and in all. */
export const MAX_STREAMS_PER_KEY = 16;
export const MAX_STREAMS = 256;

/**
 * `GET /console/api/live`: the console's one Server-Sent Events stream per tab. Events `sample`
 * (id: the sample's time), `problem` and `session`; a comment as heartbeat. A reconnect sends
 * `Last-Event-ID` (or a reopened one `?after=`) and gets the samples after it that are still kept,
 * so the sparklines have no gap.
 */
@ApiTags('console')
@Controller('console/api')
@UseGuards(ConsoleSessionGuard)
export class LiveController {
  private readonly open = new Map<string, number>();

  constructor(
    private readonly sampler: OverviewSampler,
    private readonly sessions: ConsoleSessions,
    private readonly callers: OpsCallers,
  ) {}

  @Sse('live')
  @ApiQuery({
    name: 'after',
    required: false,
    description: 'resume after this sample time, as Last-Event-ID does (a tab that reopens its stream)',
  })
  @ApiOperation({
    summary: 'The console live stream (Server-Sent Events): overview samples; resumes from Last-Event-ID',
  })
  async live(
    @Req() request: KeyedRequest,
    @Headers('last-event-id') lastEventId?: string,
    @Query('after') afterQuery?: string,
  ): Promise<Observable<MessageEvent>> {
    const caller = (await this.callers.resolve(request))!;
    const owner = caller.keyDigest;
    const total = [...this.open.values()].reduce((sum, n) => sum + n, 0);
    if ((this.open.get(owner) ?? 0) >= MAX_STREAMS_PER_KEY || total >= MAX_STREAMS)
      throw new HttpException('too many open live streams: close other console tabs', HttpStatus.TOO_MANY_REQUESTS);
    const sessionId = apiKeyOf(request) === undefined ? sessionIdOf(request) : undefined;
    const resumeFrom = lastEventId ?? afterQuery ?? '';
    const after = /^\d{1,16}$/.test(resumeFrom) ? Number(resumeFrom) : undefined;

    return new Observable<MessageEvent>((subscriber) => {
      this.open.set(owner, (this.open.get(owner) ?? 0) + 1);
      let lastId = after ?? 0;
      const send = <T extends keyof LiveEvents>(type: T, data: LiveEvents[T]): void =>
        subscriber.next({ type, data, id: String(lastId) });
      subscriber.next({ retry: RECONNECT_MS, comment: 'live', id: String(lastId) });
      const onEvent = (event: SamplerEvent): void => {
        if (event.type === 'problem') return send('problem', { message: event.message });
        if (event.sample.time <= lastId) return;
        lastId = event.sample.time;
        send('sample', event.sample);
      };
      for (const sample of this.sampler.since(after)) onEvent({ type: 'sample', sample });
      const unwatch = this.sampler.watch(onEvent, () => subscriber.complete());
      const heartbeat = setInterval(() => subscriber.next({ comment: 'heartbeat' }), HEARTBEAT_MS);
      const sessionCheck = sessionId
        ? setInterval(() => {
            this.sessions.peek(sessionId).then(
              (session) => {
                if (session) return;
                send('session', { state: 'ended' });
                subscriber.complete();
              },
              () => undefined, // NOTE: Redis unreachable: the sampler reports it; the session is checked again.
            );
          }, SESSION_CHECK_MS)
        : undefined;
      return () => {
        unwatch();
        clearInterval(heartbeat);
        clearInterval(sessionCheck);
        const left = (this.open.get(owner) ?? 1) - 1;
        if (left > 0) this.open.set(owner, left);
        else this.open.delete(owner);
      };
    });
  }
}
