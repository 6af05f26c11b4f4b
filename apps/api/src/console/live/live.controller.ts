import {
  BadRequestException,
  Controller,
  Headers,
  HttpException,
  HttpStatus,
  Logger,
  MessageEvent,
  Query,
  Req,
  Sse,
  UseGuards,
} from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { isRedisUnavailable } from '@app/platform';
import { Observable } from 'rxjs';
import { apiKeyOf, KeyedRequest, OpsCallers } from '../../ops/auth/ops-callers';
import { assertRegisteredStream } from '../../ops/http/ops-params';
import { ConsoleSessionGuard } from '../sessions/console-session.guard';
import { ConsoleSessions } from '../sessions/console-sessions';
import { sessionIdOf } from '../sessions/session-cookie';
import { formatLiveId, LivePosition, parseLiveId } from './live-event-id';
import type { LiveEvents } from './overview-sample';
import { OverviewSampler, SamplerEvent } from './overview-sampler';
import { StreamTail, TAIL_BATCH, TAIL_POLL_MS } from './stream-tail';

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
 * `GET /console/api/live`: the console's one Server-Sent Events stream per tab. Events `sample`,
 * `entry` (with `?tail=<stream>`: each entry appended to that stream), `problem` and `session`; a
 * comment as heartbeat. Each message's id is where the stream stands (LivePosition): a reconnect
 * sends it as `Last-Event-ID` (or a reopened one as `?after=`) and gets the samples after it that
 * are still kept, and every entry after the tail's positions, so neither has a gap.
 */
@ApiTags('console')
@Controller('console/api')
@UseGuards(ConsoleSessionGuard)
export class LiveController {
  private readonly open = new Map<string, number>();
  private readonly logger = new Logger('ConsoleLive');

  constructor(
    private readonly sampler: OverviewSampler,
    private readonly sessions: ConsoleSessions,
    private readonly callers: OpsCallers,
    private readonly tails: StreamTail,
  ) {}

  @Sse('live')
  @ApiQuery({
    name: 'after',
    required: false,
    description: 'resume after this event id, as Last-Event-ID does (a tab that reopens its stream)',
  })
  @ApiQuery({ name: 'tail', required: false, description: 'a stream whose new entries to send as `entry` events' })
  @ApiOperation({
    summary:
      'The console live stream (Server-Sent Events): overview samples and a tail of one stream; resumes from Last-Event-ID',
  })
  async live(
    @Req() request: KeyedRequest,
    @Headers('last-event-id') lastEventId?: string,
    @Query('after') afterQuery?: string,
    @Query('tail') tailQuery?: string,
  ): Promise<Observable<MessageEvent>> {
    const tail = tailQuery === undefined ? undefined : assertRegisteredStream(tailQuery, 'tail');
    const [field, resumeFrom] = lastEventId ? ['Last-Event-ID', lastEventId] : ['after', afterQuery];
    let resume: LivePosition | undefined;
    if (resumeFrom) {
      resume = parseLiveId(resumeFrom, this.tails.partitions);
      if (!resume) {
        const message = `${field} must be an event id of this stream (<time> or <time>~<entry id>,...)`;
        throw new BadRequestException({ message, details: [{ field, messages: [message] }] });
      }
    }
    const caller = (await this.callers.resolve(request))!;
    const owner = caller.keyDigest;
    const total = [...this.open.values()].reduce((sum, n) => sum + n, 0);
    if ((this.open.get(owner) ?? 0) >= MAX_STREAMS_PER_KEY || total >= MAX_STREAMS)
      throw new HttpException('too many open live streams: close other console tabs', HttpStatus.TOO_MANY_REQUESTS);
    const sessionId = apiKeyOf(request) === undefined ? sessionIdOf(request) : undefined;
    const after = resume?.time;
    // NOTE: a new tail starts at the stream's end now, before the first message carries its position.
    let tailAt = tail === undefined ? undefined : (resume?.tail ?? (await this.tails.end(tail)));

    return new Observable<MessageEvent>((subscriber) => {
      this.open.set(owner, (this.open.get(owner) ?? 0) + 1);
      let lastId = after ?? 0;
      const id = (): string => formatLiveId({ time: lastId, tail: tailAt });
      const send = <T extends keyof LiveEvents>(type: T, data: LiveEvents[T]): void =>
        subscriber.next({ type, data, id: id() });
      subscriber.next({ retry: RECONNECT_MS, comment: 'live', id: id() });
      const onEvent = (event: SamplerEvent): void => {
        if (event.type === 'problem') return send('problem', { message: event.message });
        if (event.sample.time <= lastId) return;
        lastId = event.sample.time;
        send('sample', event.sample);
      };
      for (const sample of this.sampler.since(after)) onEvent({ type: 'sample', sample });
      const unwatch = this.sampler.watch(onEvent, () => subscriber.complete());
      let tailing = tail !== undefined;
      let tailTimer: NodeJS.Timeout | undefined;
      const readTail = async (): Promise<void> => {
        let full = false;
        try {
          const read = await this.tails.read(tail!, tailAt!);
          full = read.length >= TAIL_BATCH;
          for (const { partition, entryId, entry } of read) {
            if (!tailing) return;
            tailAt = tailAt!.map((at, k) => (k === partition ? entryId : at));
            send('entry', entry);
          }
        } catch (error) {
          if (!isRedisUnavailable(error)) this.logger.error(`the tail of ${tail} failed: ${String(error)}`);
          if (tailing)
            send('problem', {
              message: isRedisUnavailable(error)
                ? `Redis is unreachable: the tail of ${tail} resumes where it stopped when it answers again`
                : `the tail of ${tail} could not be read (logged by the server); it tries again`,
            });
        }
        if (tailing) tailTimer = setTimeout(() => void readTail(), full ? 0 : TAIL_POLL_MS);
      };
      if (tailing) void readTail();
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
        tailing = false;
        clearTimeout(tailTimer);
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
