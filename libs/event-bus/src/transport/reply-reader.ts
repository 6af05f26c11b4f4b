import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import type { EventBusCore } from '../event-bus.core';
import { createRedis } from '../utils/redis-connection';

/**
 * Reads one client instance's reply stream with a blocking XREAD (no consumer group: nobody else
 * reads it) and hands each reply packet to `onPacket`, until stopped.
 */
export class ReplyReader {
  private readonly logger = new Logger(ReplyReader.name);
  private reader?: Redis;
  private running = false;
  private loop?: Promise<void>;
  private lastId = '0-0';

  constructor(
    private readonly core: EventBusCore,
    readonly key: string,
    private readonly onPacket: (packet: unknown) => void,
    private readonly blockMs = 1_000,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.reader = createRedis(this.core.options.redis, `event-bus:rpc-reply:${this.core.consumerName}`, {
      maxRetriesPerRequest: null,
      retryStrategy: (times: number) => Math.min(times * 100, 1000),
    });
    this.reader.on('error', (error: Error) => this.logger.warn(`redis reply reader: ${error.message}`));
    this.loop = this.run(this.reader);
  }

  private async run(reader: Redis): Promise<void> {
    while (this.running) {
      try {
        const reply = (await reader.xread(
          'COUNT',
          100,
          'BLOCK',
          this.blockMs,
          'STREAMS',
          this.key,
          this.lastId,
        )) as Array<[string, Array<[string, string[]]>]> | null;
        for (const [, entries] of reply ?? []) {
          for (const [id, fields] of entries) {
            this.lastId = id;
            const index = fields.indexOf('packet');
            if (index < 0) continue;
            try {
              this.onPacket(JSON.parse(fields[index + 1]));
            } catch (error) {
              this.logger.warn(`reply ${id} on ${this.key} is unreadable, skipped: ${String(error)}`);
            }
          }
        }
      } catch (error) {
        if (!this.running) return;
        this.logger.warn(`reading replies from ${this.key} failed, retrying: ${String(error)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    const reader = this.reader;
    this.reader = undefined;
    // NOTE: disconnect, not QUIT: a QUIT would wait out the blocked XREAD.
    reader?.disconnect();
    await this.loop;
  }
}
