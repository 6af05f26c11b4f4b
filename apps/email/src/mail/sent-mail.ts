import type { MailTemplate } from './mail-job';

/** One mail the service sent, as the sent log keeps it and `GET /emails` shows it. */
export interface SentMail {
  /** The mail's id: its job id (`mail.<orderId>.confirmed`). */
  id: string;
  to: string;
  subject: string;
  text: string;
  template: MailTemplate;
  orderId: string;
  /** RFC 3339 time the transport accepted the mail. */
  sentAt: string;
  /** The transport's message id. */
  messageId: string;
  /** Which attempt sent it: 1 when the first try went through. */
  attempts: number;
  /** Id of the event that asked for the mail. */
  eventId: string;
}
