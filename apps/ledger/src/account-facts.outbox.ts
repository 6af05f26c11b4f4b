import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { EventPublisher } from '@nest-streams/event-bus';
import { CommandResult, EventStore, fromStreamName, RecordedEvent } from '@nest-streams/event-store';
import { InjectStore, ServiceStore } from '@app/platform';
import { toFacts } from './account-facts';
import { ACCOUNT, accountDecider, accountStream, AccountState } from './domain/account.decider';
import type { AccountEvent } from './domain/account.events';

// KEYS[1] published versions; ARGV[1] account id, ARGV[2] version. Moves forward only.
const ADVANCE = `
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > current then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return 1 end
return 0`;

const BATCH = 500;

/**
 * Publishes the integration events of what the ledger appended, after each append. The account
 * streams are the outbox: `published` (a hash, account id -> last version published) says how far
 * each account's facts went out, so facts a crash or a Redis outage kept from the bus are
 * published by the next command on that account or at the next start. Ids are
 * `<accountId>:<version>`: publishing one twice is the same fact twice, which consumers dedupe.
 */
@Injectable()
export class AccountFactsOutbox implements OnApplicationBootstrap {
  private readonly logger = new Logger(AccountFactsOutbox.name);

  constructor(
    private readonly store: EventStore,
    private readonly publisher: EventPublisher,
    @InjectStore() private readonly service: ServiceStore,
  ) {}

  get publishedKey(): string {
    return this.service.key('published');
  }

  /**
   * After a command: publishes its events (and any older ones still unpublished). Never throws:
   * the events are recorded whatever happens here, and a failure is caught up later.
   */
  async afterCommand(accountId: string, result: CommandResult<AccountState, AccountEvent>): Promise<void> {
    if (result.events.length === 0) return;
    try {
      const published = await this.published(accountId);
      if (published >= result.previous.version) {
        await this.publish(accountId, result.previous.state, result.events, published);
      } else {
        await this.catchUp(accountId);
      }
    } catch (error) {
      this.logger.warn(
        `facts of account ${accountId} up to v${result.version} not published yet (the next command on it or the next start publishes them): ${String(error)}`,
      );
    }
  }

  /** Publishes every event of the account after the last one published; how many. */
  async catchUp(accountId: string): Promise<number> {
    const stream = accountStream(accountId);
    const published = await this.published(accountId);
    let state = (await this.store.load(stream, accountDecider, { asOfVersion: published })).state;
    let count = 0;
    for await (const page of this.store.pages<AccountEvent>(stream, { from: published + 1 })) {
      for (let i = 0; i < page.length; i += BATCH) {
        const batch = page.slice(i, i + BATCH);
        await this.publish(accountId, state, batch, published);
        state = batch.reduce((s, e) => accountDecider.evolve(s, e), state);
        count += batch.length;
      }
    }
    return count;
  }

  /** Catches up every account whose stream is ahead of what was published; how many events went out. */
  async sweep(): Promise<number> {
    const published = await this.service.redis.hgetall(this.publishedKey);
    let count = 0;
    for await (const stream of this.store.streamNames(ACCOUNT)) {
      const { id } = fromStreamName(stream);
      if ((await this.store.version(stream)) > Number(published[id] ?? 0)) count += await this.catchUp(id);
    }
    return count;
  }

  /** On start: publishes what an earlier run appended but did not get to publish. */
  async onApplicationBootstrap(): Promise<void> {
    try {
      const count = await this.sweep();
      if (count > 0) this.logger.log(`published ${count} account facts an earlier run had left unpublished`);
    } catch (error) {
      this.logger.warn(`could not look for unpublished account facts: ${String(error)}`);
    }
  }

  private async published(accountId: string): Promise<number> {
    return Number((await this.service.redis.hget(this.publishedKey, accountId)) ?? 0);
  }

  /** Publishes the facts of `events` (`before` is the state before the first) past version `after`. */
  private async publish(
    accountId: string,
    before: AccountState,
    events: Array<RecordedEvent<AccountEvent>>,
    after: number,
  ): Promise<void> {
    const facts = toFacts(before, events).filter((_, i) => events[i].version > after);
    if (facts.length === 0) return;
    await this.publisher.publishMany(facts);
    await this.service.redis.eval(ADVANCE, 1, this.publishedKey, accountId, events[events.length - 1].version);
  }
}
