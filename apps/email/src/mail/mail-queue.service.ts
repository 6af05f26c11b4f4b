import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, NotFoundException, OnModuleInit } from '@nestjs/common';
import type { JobsOptions, Queue } from 'bullmq';
import { whileQueueAnswers } from '@app/platform';
import { EmailConfig } from '../email.config';
import { EMAIL_QUEUE } from '../email.constants';
import { mailJobId, type MailJobData } from './mail-job';

/** A job that used up its attempts, as `GET /emails/failed` shows it. */
export interface FailedMailJob {
  id: string;
  template: string;
  to: string;
  orderId: string;
  failedReason: string;
  attempts: number;
  failedAt?: string;
}

/** Keeps a finished job (and so its id's dedupe) a week; the sent log dedupes after that. */
const KEEP_COMPLETED = { age: 7 * 24 * 3600, count: 10_000 };

/** Puts "send this mail" commands on the `email` queue, once per business fact. */
@Injectable()
export class MailQueue implements OnModuleInit {
  private readonly logger = new Logger(MailQueue.name);

  constructor(
    @InjectQueue(EMAIL_QUEUE) private readonly queue: Queue<MailJobData>,
    private readonly config: EmailConfig,
  ) {}

  onModuleInit(): void {
    // NOTE: an 'error' event without a listener would crash the process.
    this.queue.on('error', (error) => this.logger.error(`queue ${EMAIL_QUEUE}: ${error.message}`));
  }

  /**
   * Enqueues a mail under its deterministic job id. Adding an id that exists is a no-op in
   * BullMQ, so a replayed event does not mail twice. Failed jobs stay (`removeOnFail: false`) for
   * inspection and retry.
   */
  async enqueue(data: MailJobData): Promise<string> {
    const jobId = mailJobId(data.template, data.orderId);
    const { EMAIL_RETRY_ATTEMPTS, EMAIL_RETRY_DELAY_MS } = this.config.settings;
    const options: JobsOptions = {
      jobId,
      attempts: EMAIL_RETRY_ATTEMPTS,
      backoff: { type: 'exponential', delay: EMAIL_RETRY_DELAY_MS },
      removeOnComplete: KEEP_COMPLETED,
      removeOnFail: false,
    };
    await this.queue.add(data.template, data, options);
    this.logger.debug(`enqueued ${jobId} for ${data.to}`);
    return jobId;
  }

  /** The newest failed jobs (attempts used up, or an unrecoverable error); a 503 while Redis is down, not a hang. */
  async failed(limit: number): Promise<FailedMailJob[]> {
    const jobs = await whileQueueAnswers(this.queue, () => this.queue.getFailed(0, limit - 1));
    return jobs.map((job) => ({
      id: job.id ?? '',
      template: job.data.template,
      to: job.data.to,
      orderId: job.data.orderId,
      failedReason: job.failedReason,
      attempts: job.attemptsMade,
      failedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : undefined,
    }));
  }

  /** Moves a failed job back to waiting with fresh attempts. */
  async retryFailed(id: string): Promise<void> {
    await whileQueueAnswers(this.queue, async () => {
      const job = await this.queue.getJob(id);
      if (!job || !(await job.isFailed())) throw new NotFoundException(`no failed mail job with id "${id}"`);
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    });
    this.logger.log(`retrying failed mail job ${id}`);
  }
}
