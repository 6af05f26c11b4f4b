import { Injectable } from '@nestjs/common';
import { withConsumerScripts } from '@nest-streams/event-bus/consumer/consumer-scripts';
import { EventBusCore } from '@nest-streams/event-bus';
import { getContract } from '@nest-streams/event-bus/catalogue';
import { pairsToRecord } from '@nest-streams/event-bus/utils/pairs';
import { AccountOpened } from '@app/contracts';
import { BalancesReadModel } from './balances.read-model';
import { BALANCES_GROUP } from './balances.projection';

/** Where the balances projection is: its consumer group's position in the `accounts` stream. */
export interface ProjectionStatus {
  group: string;
  stream: string;
  /** The checkpoint: the last entry delivered to the group (null before the group exists). */
  lastDeliveredId: string | null;
  /** Delivered, not yet acknowledged. */
  pending: number;
  /** Entries not yet delivered to the group (null when Redis cannot tell). */
  lag: number | null;
  /** Rows in the read model. */
  accounts: number;
}

@Injectable()
export class BalancesCheckpoint {
  constructor(
    private readonly core: EventBusCore,
    private readonly balances: BalancesReadModel,
  ) {}

  async status(): Promise<ProjectionStatus> {
    const stream = getContract(AccountOpened).stream;
    const key = this.core.keys.stream(stream);
    const groups = (await withConsumerScripts(this.core.redis)
      .xinfoOf(key, 'GROUPS')
      .catch(() => [])) as Array<Array<string | number | null>>;
    const info = groups.map((row) => pairsToRecord<string | number | null>(row)).find((g) => g.name === BALANCES_GROUP);
    const accounts = await this.core.redis.hlen(this.balances.keys.rows);
    return {
      group: BALANCES_GROUP,
      stream,
      lastDeliveredId: info ? String(info['last-delivered-id']) : null,
      pending: info ? Number(info.pending) : 0,
      lag: info && info.lag !== null && info.lag !== undefined ? Number(info.lag) : null,
      accounts,
    };
  }
}
