import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { BeforeApplicationShutdown, Inject, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bullmq';
import { EmailConfig } from '../email.config';
import { EMAIL_QUEUE, MAIL_TRANSPORT } from '../email.constants';
import type { MailTransport } from '../transport/mail-transport.interface';
import type { MailJobData } from './mail-job';
import { renderMail } from './mail-templates';
import { SentMailLog } from './sent-mail.log';
import { closeWorker } from '@app/platform';

/** What a finished job returns (kept on the completed job). */
export interface MailJobResult {
  messageId: string;
  /** True when the sent log already had this mail, so nothing was sent again. */
  alreadySent: boolean;
}

/**
 * The worker of the `email` queue: renders the job's template, sends it through the
 * `MAIL_TRANSPORT`, records it in the sent log. A throw retries the job with exponential
 * backoff; after the last attempt the job is failed and logged, and stays listed at
 * `GET /emails/failed`.
 */
@Processor(EMAIL_QUEUE, { autorun: false })
export class MailProcessor extends WorkerHost implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(MailProcessor.name);

  constructor(
    @Inject(MAIL_TRANSPORT) private readonly transport: MailTransport,
    private readonly log: SentMailLog,
    private readonly config: EmailConfig,
  ) {
    super();
  }

  /** Starts the worker once the settings are checked, with the configured concurrency. */
  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.settings.EMAIL_WORKER_CONCURRENCY;
    this.worker.run().catch((error: unknown) => this.logger.error(`worker ${EMAIL_QUEUE} stopped: ${String(error)}`));
  }

  /**
   * Stops taking jobs and lets the active ones finish (forced while Redis is down: see closeWorker)
   * while the store connection is surely open:
   * the bus closes it in `onApplicationShutdown`, the phase where @nestjs/bullmq closes workers,
   * in a module order we do not choose. Jobs waiting in backoff stay in Redis for the next start.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await closeWorker(this.worker);
  }

  async process(job: Job<MailJobData>): Promise<MailJobResult> {
    const id = job.id ?? '';
    // NOTE: a job can run again after its mail went out (a stalled job, or a replay after the job
    // was removed): the sent log is the last word on "already sent".
    const sent = await this.log.get(id);
    if (sent) {
      this.logger.warn(`${id} was already sent to ${sent.to} (${sent.messageId}); not sending again`);
      return { messageId: sent.messageId, alreadySent: true };
    }
    const { subject, text } = renderMail(job.data);
    const { messageId } = await this.transport.send({ to: job.data.to, subject, text });
    await this.log.record({
      id,
      to: job.data.to,
      subject,
      text,
      template: job.data.template,
      orderId: job.data.orderId,
      sentAt: new Date().toISOString(),
      messageId,
      attempts: job.attemptsMade + 1,
      eventId: job.data.eventId,
    });
    this.logger.log(`sent ${id} to ${job.data.to} (attempt ${job.attemptsMade + 1}, ${messageId})`);
    return { messageId, alreadySent: false };
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<MailJobData> | undefined, error: Error): void {
    if (!job) return;
    const attempts = job.opts.attempts ?? 1;
    if (job.finishedOn !== undefined || job.attemptsMade >= attempts) {
      this.logger.error(
        `${job.id} to ${job.data.to} FAILED after ${job.attemptsMade} attempt(s): ${error.message} (see GET /emails/failed)`,
      );
    } else {
      this.logger.warn(
        `${job.id} attempt ${job.attemptsMade} of ${attempts} failed, retrying with backoff: ${error.message}`,
      );
    }
  }

  @OnWorkerEvent('error')
  onError(error: Error): void {
    this.logger.error(`worker ${EMAIL_QUEUE}: ${error.message}`);
  }
}
