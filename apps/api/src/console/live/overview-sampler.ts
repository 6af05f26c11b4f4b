import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { EventBusCore, GroupAdminService } from '@nest-streams/event-bus';
import { scripted, withConsumerScripts } from '@nest-streams/event-bus/consumer/consumer-scripts';
import { isRedisUnavailable } from '@app/platform';
import { registeredStreams } from '../../ops/http/ops-params';
import { toRecord } from '../../ops/http/redis-replies';
import { CONSOLE_SETTINGS, ConsoleSettings } from '../console-settings';
import type { OverviewSample, OverviewStream } from './overview-sample';

/** Samples kept for the sparklines and for resuming a reconnected stream. */
export const OVERVIEW_HISTORY = 90;
/** How long sampling goes on after the last stream closed: a tab that reconnects meanwhile misses nothing. */
export const LINGER_MS = 30_000;

export type SamplerEvent = { type: 'sample'; sample: OverviewSample } | { type: 'problem'; message: string };
type Listener = (event: SamplerEvent) => void;

/**
 * Samples every registered stream (length, rate from `entries-added`, dead letters, groups with
 * lag and pending) every `sampleMs` while a live stream listens (and LINGER_MS after), and keeps the last
 * OVERVIEW_HISTORY samples. It only reads (XINFO, XLEN): it never joins or moves a group.
 */
@Injectable()
export class OverviewSampler implements OnModuleDestroy {
  private readonly logger = new Logger('ConsoleOverview');
  private readonly samples: OverviewSample[] = [];
  private readonly listeners = new Set<Listener>();
  private readonly closers = new Set<() => void>();
  private timer?: NodeJS.Timeout;
  private linger?: NodeJS.Timeout;
  private running = false;
  /** Bumped by each start, so that a sample still in flight from before a stop does not start a second loop. */
  private generation = 0;
  private closed = false;

  constructor(
    private readonly core: EventBusCore,
    private readonly groups: GroupAdminService,
    @Inject(CONSOLE_SETTINGS) private readonly settings: ConsoleSettings,
  ) {}

  /**
   * Calls `listener` with each new sample (sampling while anyone listens) and `close` when the
   * app shuts down; returns the unsubscribe function.
   */
  watch(listener: Listener, close: () => void): () => void {
    this.listeners.add(listener);
    this.closers.add(close);
    clearTimeout(this.linger);
    if (!this.running && !this.closed) {
      const newest = this.samples.at(-1);
      // NOTE: after a pause longer than a few samples the history would show a false gap: start afresh.
      if (newest && Date.now() - newest.time > 3 * this.settings.sampleMs) this.samples.length = 0;
      this.running = true;
      void this.tick(++this.generation);
    }
    return () => {
      this.listeners.delete(listener);
      this.closers.delete(close);
      if (this.listeners.size > 0 || this.closed) return;
      clearTimeout(this.linger);
      this.linger = setTimeout(() => this.stop(), LINGER_MS);
    };
  }

  /** The samples kept that are newer than `time` (all of them without it). */
  since(time?: number): OverviewSample[] {
    return time === undefined ? [...this.samples] : this.samples.filter((s) => s.time > time);
  }

  onModuleDestroy(): void {
    this.closed = true;
    this.stop();
    for (const close of [...this.closers]) close();
  }

  private stop(): void {
    clearTimeout(this.linger);
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async tick(generation: number): Promise<void> {
    const started = Date.now();
    let event: SamplerEvent;
    try {
      event = { type: 'sample', sample: await this.sample(this.samples.at(-1)) };
    } catch (error) {
      const message = isRedisUnavailable(error)
        ? 'Redis is unreachable: the overview resumes when it answers again'
        : 'the overview could not be read (logged by the server)';
      if (!isRedisUnavailable(error)) this.logger.error(`sampling failed: ${String(error)}`);
      event = { type: 'problem', message };
    }
    if (!this.running || generation !== this.generation) return;
    if (event.type === 'sample') {
      this.samples.push(event.sample);
      if (this.samples.length > OVERVIEW_HISTORY) this.samples.shift();
    }
    for (const listener of this.listeners) listener(event);
    const wait = Math.max(0, this.settings.sampleMs - (Date.now() - started));
    this.timer = setTimeout(() => void this.tick(generation), wait);
  }

  private async sample(previous?: OverviewSample): Promise<OverviewSample> {
    const streams = await Promise.all([...registeredStreams()].sort().map((stream) => this.stream(stream)));
    const time = Math.max(Date.now(), (previous?.time ?? 0) + 1);
    const fresh = previous && time - previous.time <= 3 * this.settings.sampleMs;
    for (const s of streams) {
      const before = fresh ? previous.streams.find((p) => p.stream === s.stream) : undefined;
      s.rate = before ? Math.max(0, ((s.added - before.added) * 1000) / (time - previous!.time)) : null;
    }
    return { time, streams };
  }

  /** One stream: each partition read in a pipeline of its own (on a cluster their keys live on different nodes). */
  private async stream(stream: string): Promise<OverviewStream> {
    const { keys, redis } = this.core;
    const [parts, groups] = await Promise.all([
      Promise.all(
        keys.all.map(async (k) => {
          const replies =
            (await scripted(withConsumerScripts(redis).pipeline())
              .xinfoOf(keys.stream(stream, k), 'STREAM')
              .xlen(keys.deadLetter(stream, k))
              .exec()) ?? [];
          const [[infoError, info], [dlqError, deadLetters]] = replies;
          for (const error of [infoError, dlqError]) if (error && !String(error).includes('no such key')) throw error;
          const r = info && !infoError ? toRecord(info as unknown[]) : {};
          const length = Number(r.length ?? 0);
          // NOTE: Redis before 7 has no entries-added; the length is the best it can tell.
          const added = r['entries-added'] === undefined ? length : Number(r['entries-added']);
          return { length, added, deadLetters: Number(deadLetters ?? 0) };
        }),
      ),
      this.groups.groups(stream),
    ]);
    return {
      stream,
      length: parts.reduce((sum, p) => sum + p.length, 0),
      added: parts.reduce((sum, p) => sum + p.added, 0),
      rate: null,
      deadLetters: parts.reduce((sum, p) => sum + p.deadLetters, 0),
      groups: groups
        .map((g) => ({ group: g.group, lag: g.lag, pending: g.pending, consumers: g.consumers.length }))
        .sort((a, b) => a.group.localeCompare(b.group)),
    };
  }
}
