import { Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { EventStore, fromStreamName, isValidStreamName } from '@nest-streams/event-store';
import { InjectStore, ServiceStore } from '@app/platform';
import { AccountFact, toFacts } from '../account-facts';
import { ACCOUNT, accountDecider, accountStream } from '../domain/account.decider';
import type { AccountEvent } from '../domain/account.events';
import { BalanceRow, toBalanceRow } from './balance-row';
import { BalancesReadModel } from './balances.read-model';

export interface RebuildResult {
  accounts: number;
  events: number;
  /** Live rows newer than what the rebuild read (facts applied while it ran), carried over. */
  keptFromLive: number;
  /** Rows of accounts that have no stream in the event store, removed. */
  dropped: number;
  tookMs: number;
}

const WRITE_BATCH = 200;

/**
 * Rebuilds the balances read model from scratch by replaying every account stream of the event
 * store (the source of truth, never trimmed) through the same fact mapping and row function as
 * the live projection, into a new model next to the live one, then swaps it in atomically.
 * The live projection keeps running meanwhile (its group and checkpoint are untouched).
 */
@Injectable()
export class BalancesRebuilder {
  private readonly logger = new Logger(BalancesRebuilder.name);

  constructor(
    private readonly store: EventStore,
    private readonly balances: BalancesReadModel,
    @InjectStore() private readonly service: ServiceStore,
  ) {}

  async rebuild(): Promise<RebuildResult> {
    const began = Date.now();
    const keys = this.balances.rebuildKeys(randomBytes(4).toString('hex'));
    const seen = new Set<string>();
    let events = 0;
    let pending: BalanceRow[] = [];
    const flush = async (): Promise<void> => {
      if (pending.length === 0) return;
      const tx = this.service.redis.multi();
      for (const row of pending) this.balances.apply(tx, row, keys);
      const results = await tx.exec();
      const failed = results?.find(([error]) => error);
      if (!results || failed) throw failed?.[0] ?? new Error('rebuild write was discarded');
      pending = [];
    };
    try {
      for await (const stream of this.store.streamNames(ACCOUNT)) {
        if (seen.has(stream)) continue;
        seen.add(stream);
        let state = accountDecider.initialState();
        let last: AccountFact | undefined;
        for await (const page of this.store.pages<AccountEvent>(stream)) {
          const facts = toFacts(state, page);
          last = facts[facts.length - 1].event as AccountFact;
          state = page.reduce((s, e) => accountDecider.evolve(s, e), state);
          events += page.length;
        }
        if (last) pending.push(toBalanceRow(last));
        if (pending.length >= WRITE_BATCH) await flush();
      }
      await flush();
      const keptFromLive = await this.balances.swapIn(keys);
      const dropped = await this.dropOrphans(new Set([...seen].map((stream) => fromStreamName(stream).id)));
      const result = { accounts: seen.size, events, keptFromLive, dropped, tookMs: Date.now() - began };
      this.logger.log(
        `balances rebuilt from ${result.events} events of ${result.accounts} accounts in ${result.tookMs} ms (${keptFromLive} newer live rows kept, ${dropped} orphans dropped)`,
      );
      return result;
    } catch (error) {
      await this.balances.discard(keys).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Removes rows the rebuild did not produce and whose account has no stream at all (an account
   * opened during the rebuild has one: its stream is written before its facts are published).
   */
  private async dropOrphans(rebuilt: Set<string>): Promise<number> {
    let dropped = 0;
    for (const accountId of await this.service.redis.hkeys(this.balances.keys.versions)) {
      if (rebuilt.has(accountId)) continue;
      if (isValidStreamName(`${ACCOUNT}-${accountId}`) && (await this.store.version(accountStream(accountId))) > 0)
        continue;
      await this.balances.remove(accountId);
      dropped++;
    }
    return dropped;
  }
}
