import { Injectable } from '@nestjs/common';
import type { ChainableCommander } from 'ioredis';
import { InjectStore, ServiceStore } from '@app/platform';
import { defineTransitionScript, runTransition, SagaStep, TransitionOutcome } from '../saga/order-transition.script';
import { isOrderId } from './order-id';
import { fromHash, HistoryEntry, OrderRecord, toHash } from './order-record';

/**
 * Orders in Redis, under the order service's store, each next to its events (`store.keyFor`):
 * `order:<id>` (hash), `order:<id>:history` (list of JSON entries), `order:<id>:events` (set of
 * applied event ids) and `orders` (sorted set of ids by placement time; one per partition when
 * streams are partitioned, so placing an order stays one MULTI on Redis Cluster).
 */
@Injectable()
export class OrderRepository {
  /** The index key of each partition (one key when streams are not partitioned). */
  private readonly indexes: string[];

  constructor(@InjectStore() private readonly store: ServiceStore) {
    this.indexes = store.keysInEveryPartition('orders');
    defineTransitionScript(store.redis);
  }

  /**
   * Queues on `tx` the writes of a new order: its record, its index entry and its history's first
   * entry (the OrderPlaced that announces it, published in the same MULTI).
   */
  create(tx: ChainableCommander, order: OrderRecord, placed: HistoryEntry): void {
    tx.hset(this.orderKey(order.orderId), toHash(order))
      .zadd(this.store.keyFor(order.orderId, 'orders'), Date.parse(order.placedAt), order.orderId)
      .lpush(this.historyKey(order.orderId), JSON.stringify(placed));
  }

  async find(orderId: string): Promise<OrderRecord | undefined> {
    if (!isOrderId(orderId)) return undefined;
    return fromHash(await this.store.redis.hgetall(this.orderKey(orderId)));
  }

  /** The order and its history, read together. */
  async findWithHistory(orderId: string): Promise<{ order: OrderRecord; history: HistoryEntry[] } | undefined> {
    if (!isOrderId(orderId)) return undefined;
    const [[, hash], [, entries]] = (await this.store.redis
      .multi()
      .hgetall(this.orderKey(orderId))
      .lrange(this.historyKey(orderId), 0, -1)
      .exec()) as [[Error | null, Record<string, string>], [Error | null, string[]]];
    const order = fromHash(hash);
    if (!order) return undefined;
    return { order, history: entries.map((entry) => JSON.parse(entry) as HistoryEntry) };
  }

  /** The most recent orders first. */
  async page(offset: number, limit: number): Promise<{ orders: OrderRecord[]; total: number }> {
    const redis = this.store.redis;
    // NOTE: the newest offset + limit of each partition's index, merged by placement time.
    const [tops, totals] = await Promise.all([
      Promise.all(this.indexes.map((index) => redis.zrevrange(index, 0, offset + limit - 1, 'WITHSCORES'))),
      Promise.all(this.indexes.map((index) => redis.zcard(index))),
    ]);
    const total = totals.reduce((sum, n) => sum + n, 0);
    const merged: Array<{ id: string; at: number }> = [];
    for (const top of tops) for (let i = 0; i < top.length; i += 2) merged.push({ id: top[i], at: Number(top[i + 1]) });
    merged.sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1));
    const ids = merged.slice(offset, offset + limit).map((m) => m.id);
    if (ids.length === 0) return { orders: [], total };
    // NOTE: independent reads (orders may sit in several slots), pipelined by the client per node.
    const hashes = await Promise.all(ids.map((id) => redis.hgetall(this.orderKey(id))));
    return { orders: hashes.map(fromHash).filter((o): o is OrderRecord => o !== undefined), total };
  }

  /** Applies one saga event atomically (see order-transition.script.ts). */
  transition(
    orderId: string,
    entry: HistoryEntry,
    entryId: string,
    step: SagaStep,
    now = new Date(),
  ): Promise<TransitionOutcome> {
    if (!isOrderId(orderId)) return Promise.resolve('unknown');
    const keys = {
      order: this.orderKey(orderId),
      history: this.historyKey(orderId),
      events: this.store.keyFor(orderId, 'order', orderId, 'events'),
    };
    return runTransition(
      this.store.redis,
      keys,
      { id: entry.eventId, entryId, historyEntry: JSON.stringify(entry) },
      step,
      now,
    );
  }

  /** Queues "the outcome of `orderId` is published" into a commit transaction. */
  markAnnounced(tx: ChainableCommander, orderId: string, eventId: string): void {
    tx.hset(this.orderKey(orderId), 'announced', eventId);
  }

  private orderKey(orderId: string): string {
    return this.store.keyFor(orderId, 'order', orderId);
  }

  private historyKey(orderId: string): string {
    return this.store.keyFor(orderId, 'order', orderId, 'history');
  }
}
