/** The BullMQ queue of "send this email" commands (keys under `<namespace>:bull:email:`). */
export const EMAIL_QUEUE = 'email';

/** Injection token of the {@link MailTransport} the worker sends through. */
export const MAIL_TRANSPORT = Symbol('MAIL_TRANSPORT');

/** Name of this service's consumer group and store. */
export const EMAIL_SERVICE = 'email';
