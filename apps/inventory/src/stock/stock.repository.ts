import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { ChainableCommander } from 'ioredis';
import { CATALOGUE_SEED, ReservedLine, ShortLine } from '@app/contracts';
import { InjectStore, ServiceStore } from '@app/platform';
import { ScriptReply, StockCommands, stockCommands } from './stock-scripts';

/** Stock of one sku. */
export interface StockLevel {
  sku: string;
  name: string;
  available: number;
  reserved: number;
}

/**
 * Where an order stands with inventory: `reserved` (stock set aside), `failed` (a line was
 * short, nothing set aside), `released` (given back after a cancel), `void` (cancelled before
 * anything was reserved: nothing will be).
 */
export type ReservationState = 'reserved' | 'failed' | 'released' | 'void';

/** The facts inventory announces about an order, each once. */
export type AnnouncedFact = 'reserved' | 'reservation-failed' | 'released';

export interface ReservationResult {
  state: ReservationState;
  /** The reserved lines (`reserved`, `released`). */
  lines: ReservedLine[];
  /** The short lines (`failed`). */
  short: ShortLine[];
  /** When the state was reached (reservedAt, failedAt, releasedAt). */
  at: string;
  /** True when the order already had this outcome: nothing changed now. */
  repeat: boolean;
}

/**
 * Stock in Redis, under the inventory service's store: `stock` (hash sku -> available),
 * `reserved` (hash sku -> reserved), `catalogue` (hash sku -> name), `seeded` (flag, the time of
 * the first seed) and `reservation:<orderId>` (hash: state, payload, at, releasedAt). Every
 * change is one Lua script, so concurrent orders (on any number of instances) never oversell.
 */
@Injectable()
export class StockRepository implements OnModuleInit {
  private readonly logger = new Logger(StockRepository.name);
  private readonly commands: StockCommands;
  private readonly keys: { seeded: string; stock: string; reserved: string; catalogue: string };

  constructor(@InjectStore() private readonly store: ServiceStore) {
    this.commands = stockCommands(store.redis);
    this.keys = {
      seeded: store.key('seeded'),
      stock: store.key('stock'),
      reserved: store.key('reserved'),
      catalogue: store.key('catalogue'),
    };
  }

  /** Seeds stock from CATALOGUE_SEED the first time only (a seeded flag, SETNX in the script). */
  async onModuleInit(): Promise<void> {
    const args = CATALOGUE_SEED.flatMap(({ sku, name, stock }) => [sku, name, stock]);
    const { seeded, stock, reserved, catalogue } = this.keys;
    const count = await this.commands.inventorySeed(
      seeded,
      stock,
      reserved,
      catalogue,
      new Date().toISOString(),
      ...args,
    );
    if (count > 0) this.logger.log(`seeded stock of ${count} sku(s)`);
  }

  /** Every sku, by sku. */
  async list(): Promise<StockLevel[]> {
    const [names, stock, reserved] = await Promise.all([
      this.store.redis.hgetall(this.keys.catalogue),
      this.store.redis.hgetall(this.keys.stock),
      this.store.redis.hgetall(this.keys.reserved),
    ]);
    return Object.keys(stock)
      .sort()
      .map((sku) => ({
        sku,
        name: names[sku] ?? sku,
        available: Number(stock[sku]),
        reserved: Number(reserved[sku] ?? 0),
      }));
  }

  async get(sku: string): Promise<StockLevel | undefined> {
    const [name, available, reserved] = await Promise.all([
      this.store.redis.hget(this.keys.catalogue, sku),
      this.store.redis.hget(this.keys.stock, sku),
      this.store.redis.hget(this.keys.reserved, sku),
    ]);
    if (available === null) return undefined;
    return { sku, name: name ?? sku, available: Number(available), reserved: Number(reserved ?? 0) };
  }

  /** Reserves every line (one per sku) or none; an order is reserved at most once. */
  async reserve(orderId: string, lines: ReservedLine[]): Promise<ReservationResult> {
    const args = lines.flatMap(({ sku, quantity }) => [sku, quantity]);
    const reply = await this.commands.inventoryReserve(
      this.keys.stock,
      this.keys.reserved,
      this.reservationKey(orderId),
      new Date().toISOString(),
      JSON.stringify(lines),
      ...args,
    );
    return toResult(reply);
  }

  /** Gives back what the order reserved, at most once. */
  async release(orderId: string): Promise<ReservationResult> {
    const reply = await this.commands.inventoryRelease(
      this.keys.stock,
      this.keys.reserved,
      this.reservationKey(orderId),
      new Date().toISOString(),
    );
    return toResult(reply);
  }

  /** Queues on a commit: `orderId`'s `fact` (`reserved`, `reservation-failed`, `released`) has been published. */
  markAnnounced(tx: ChainableCommander, orderId: string, fact: AnnouncedFact): void {
    tx.hset(this.reservationKey(orderId), `announced:${fact}`, '1');
  }

  /** Whether `orderId`'s `fact` has been published (see markAnnounced). */
  async announced(orderId: string, fact: AnnouncedFact): Promise<boolean> {
    return (await this.store.redis.hexists(this.reservationKey(orderId), `announced:${fact}`)) === 1;
  }

  private reservationKey(orderId: string): string {
    return this.store.key('reservation', orderId);
  }
}

function toResult([state, payload, at, repeat]: ScriptReply): ReservationResult {
  const result: ReservationResult = {
    state: state as ReservationState,
    lines: [],
    short: [],
    at,
    repeat: repeat === 'repeat',
  };
  // NOTE: rebuilt field by field: cjson (the script's encoder) writes object keys in no fixed order.
  if (!payload) return result;
  if (state === 'failed')
    result.short = (JSON.parse(payload) as ShortLine[]).map(({ sku, requested, available }) => ({
      sku,
      requested,
      available,
    }));
  else result.lines = (JSON.parse(payload) as ReservedLine[]).map(({ sku, quantity }) => ({ sku, quantity }));
  return result;
}
