/** The configured mail transport cannot work in this build; the message says what to change. */
export class MailTransportConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MailTransportConfigError';
  }
}
