/** The email service as other apps compose it: its module, and the id of the mail job an order gets. */
export { EmailModule } from './email.module';
export { mailJobId } from './mail/mail-job';
export type { MailTemplate } from './mail/mail-job';
