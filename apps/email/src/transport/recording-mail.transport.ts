import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { MailTransport, OutgoingMail, SentReceipt } from './mail-transport.interface';

/**
 * The default transport: delivers nowhere. The mail exists only in the sent log the worker
 * writes for every transport (`GET /emails`), which is what development and tests read.
 */
export class RecordingMailTransport implements MailTransport {
  private readonly logger = new Logger(RecordingMailTransport.name);

  async send(mail: OutgoingMail): Promise<SentReceipt> {
    const messageId = `<${randomUUID()}@email-service.local>`;
    this.logger.debug(`recorded "${mail.subject}" for ${mail.to} as ${messageId} (not delivered: SMTP_URL is unset)`);
    return { messageId };
  }
}
