/** A rendered mail, ready to hand to a transport. */
export interface OutgoingMail {
  to: string;
  subject: string;
  /** Plain-text body. */
  text: string;
}

/** What a transport answers for a mail it accepted. */
export interface SentReceipt {
  /** The transport's id of the message (an SMTP Message-ID, or a generated one). */
  messageId: string;
}

/**
 * Delivers a rendered mail. Bound to the `MAIL_TRANSPORT` token; throwing means "not sent" and
 * makes the worker retry the job with backoff.
 */
export interface MailTransport {
  send(mail: OutgoingMail): Promise<SentReceipt>;
}
