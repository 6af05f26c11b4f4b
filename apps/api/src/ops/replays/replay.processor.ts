import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { BeforeApplicationShutdown, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bullmq';
import { ReplayService } from '@nest-streams/event-bus';
import { CANCEL_POLL_MS, PROGRESS_EVERY_MS, REPLAY_QUEUE } from '../ops.constants';
import { ReplayCancellations } from './replay-cancellations';
import type { ReplayJobData, ReplayJobProgress, ReplayJobResult, ReplayProgress } from './replay-job';
import { closeWorker } from '@app/platform';

/**
 * The worker of the `replays` queue: runs `ReplayService.run()` with an AbortSignal that fires
 * when the replay is cancelled (a flag in Redis, polled every CANCEL_POLL_MS, or BullMQ's own
 * cancelJob) and writes progress to the job at most every PROGRESS_EVERY_MS. A replay is not
 * retried: a half-done copy run again would deliver its first part twice.
 */
@Processor(REPLAY_QUEUE, { autorun: false, concurrency: 2, maxStalledCount: 0 })
export class ReplayProcessor extends WorkerHost implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ReplayProcessor.name);
  private readonly running = new Map<string, AbortController>();
  private shuttingDown = false;

  constructor(
    private readonly replays: ReplayService,
    private readonly cancellations: ReplayCancellations,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.worker.run().catch((error: unknown) => this.logger.error(`worker ${REPLAY_QUEUE} stopped: ${String(error)}`));
  }

  /** Interrupts running replays (they fail, saying how far they got) and closes the worker while Redis is still open (forced while it is down: see closeWorker). */
  async beforeApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const controller of this.running.values()) controller.abort();
    await closeWorker(this.worker);
  }

  async process(
    job: Job<ReplayJobData, ReplayJobResult>,
    _token?: string,
    signal?: AbortSignal,
  ): Promise<ReplayJobResult> {
    const id = job.id ?? '';
    if (await this.cancellations.requested(id)) return { total: 0, done: 0, cancelled: true };
    const controller = new AbortController();
    this.running.set(id, controller);
    signal?.addEventListener('abort', () => controller.abort(), { once: true });
    let cancelled = false;
    const poll = setInterval(() => {
      this.cancellations
        .requested(id)
        .then((yes) => {
          if (yes) {
            cancelled = true;
            controller.abort();
          }
        })
        .catch(() => undefined);
    }, CANCEL_POLL_MS);
    const progress = new ProgressWriter(job);
    try {
      const result = await this.replays.run(job.data.request, {
        signal: controller.signal,
        onProgress: (p) => progress.report(p),
      });
      await progress.flush(result);
      if (result.cancelled && this.shuttingDown && !cancelled && !signal?.aborted) {
        throw new Error(
          `interrupted by shutdown after ${result.done} of ${result.total} entries: start a new replay from after the last entry copied`,
        );
      }
      this.logger.log(
        `replay ${id} of ${job.data.request.stream} to ${job.data.request.target.kind}/${job.data.request.target.group}: ${result.done} of ${result.total}${result.cancelled ? ', cancelled' : ''}`,
      );
      return result;
    } finally {
      clearInterval(poll);
      this.running.delete(id);
    }
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<ReplayJobData> | undefined, error: Error): void {
    if (job) this.logger.error(`replay ${job.id} failed: ${error.message}`);
  }

  @OnWorkerEvent('error')
  onError(error: Error): void {
    this.logger.error(`worker ${REPLAY_QUEUE}: ${error.message}`);
  }
}

/** Writes progress to the job at most every PROGRESS_EVERY_MS, one write at a time, the last one always. */
class ProgressWriter {
  private lastAt = 0;
  private since?: number;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly job: Job<ReplayJobData, ReplayJobResult>) {}

  report(progress: ReplayProgress): void {
    const now = Date.now();
    if (now - this.lastAt < PROGRESS_EVERY_MS && progress.done !== 0) return;
    this.lastAt = now;
    this.write(progress);
  }

  async flush(progress: ReplayProgress): Promise<void> {
    this.write(progress);
    await this.writing;
  }

  private write(progress: ReplayProgress): void {
    const at = Date.now();
    this.since ??= at;
    const value: ReplayJobProgress = { done: progress.done, total: progress.total, since: this.since, at };
    this.writing = this.writing.then(() => this.job.updateProgress(value)).catch(() => undefined);
  }
}
