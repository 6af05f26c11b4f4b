import type { MailTransport, OutgoingMail, SentReceipt } from '../../src/transport/mail-transport.interface';

/** A transport the test steers: it counts every call and fails or stalls for chosen recipients. */
export class ScriptedTransport implements MailTransport {
  /** Every call, including failed ones. */
  readonly calls: OutgoingMail[] = [];
  /** Mails accepted. */
  readonly sent: OutgoingMail[] = [];
  /** Recipient -> how many next calls fail (Infinity: all). */
  readonly failures = new Map<string, number>();
  /** Recipient -> ms each call takes. */
  readonly delays = new Map<string, number>();

  async send(mail: OutgoingMail): Promise<SentReceipt> {
    this.calls.push(mail);
    const delay = this.delays.get(mail.to) ?? 0;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    const failing = this.failures.get(mail.to) ?? 0;
    if (failing > 0) {
      this.failures.set(mail.to, failing - 1);
      throw new Error(`451 temporary failure for ${mail.to}`);
    }
    this.sent.push(mail);
    return { messageId: `<scripted-${this.sent.length}@test>` };
  }

  callsTo(to: string): number {
    return this.calls.filter((mail) => mail.to === to).length;
  }

  sentTo(to: string): number {
    return this.sent.filter((mail) => mail.to === to).length;
  }
}
