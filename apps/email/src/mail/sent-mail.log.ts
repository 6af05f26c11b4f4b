import { Injectable } from '@nestjs/common';
import { InjectStore, ServiceStore } from '@app/platform';
import type { SentMail } from './sent-mail';

/** Stores the record and indexes it, only if no mail with that id was recorded before. */
const RECORD_ONCE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
  redis.call('LPUSH', KEYS[2], ARGV[2])
  redis.call('LPUSH', KEYS[3], ARGV[2])
  return 1
end
return 0`;

/**
 * The mails this service sent, whatever the transport, in its store:
 *
 * | key | type | what |
 * |---|---|---|
 * | `<ns>:svc:email:mail:<id>` | string | the {@link SentMail} as JSON |
 * | `<ns>:svc:email:mails` | list | mail ids, newest first |
 * | `<ns>:svc:email:mails:to:<address>` | list | mail ids of one recipient (lower-cased), newest first |
 */
@Injectable()
export class SentMailLog {
  constructor(@InjectStore() private readonly store: ServiceStore) {}

  /** Records a sent mail; false when one with that id was already recorded (nothing changes). */
  async record(mail: SentMail): Promise<boolean> {
    const keys = [this.store.key('mail', mail.id), this.store.key('mails'), this.recipientKey(mail.to)];
    const added = await this.store.redis.eval(RECORD_ONCE, keys.length, ...keys, JSON.stringify(mail), mail.id);
    return added === 1;
  }

  async get(id: string): Promise<SentMail | undefined> {
    const json = await this.store.redis.get(this.store.key('mail', id));
    return json ? (JSON.parse(json) as SentMail) : undefined;
  }

  /** The newest `limit` mails, of one recipient when `to` is given. */
  async list(options: { to?: string; limit: number }): Promise<SentMail[]> {
    const index = options.to ? this.recipientKey(options.to) : this.store.key('mails');
    const ids = await this.store.redis.lrange(index, 0, options.limit - 1);
    if (ids.length === 0) return [];
    const records = await this.store.redis.mget(ids.map((id) => this.store.key('mail', id)));
    return records.filter((json): json is string => json !== null).map((json) => JSON.parse(json) as SentMail);
  }

  private recipientKey(address: string): string {
    return this.store.key('mails', 'to', address.trim().toLowerCase());
  }
}
