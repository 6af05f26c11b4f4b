import { Command, Help, Option } from 'nest-commander';
import { cursorBefore, positiveInt, streamPosition } from '../args';
import { entryLine } from '../format';
import { isRateLimited, seg } from '../ops-client';
import { CommandContext, ConnectionOptions, onInterrupt, OpsCommand, rateLimitPause, sleep } from '../ops-command';
import type { EntriesPage, StreamInfo } from '../ops.types';

interface TailOptions extends ConnectionOptions {
  type?: string;
  subject?: string;
  from?: string;
  limit?: number;
}

export const TAIL_POLL_MS = 500;
const PAGE = 100;

@Command({
  name: 'tail',
  arguments: '<stream>',
  argsDescription: { stream: 'stream name, e.g. orders' },
  description: 'follow a stream live, one line per entry (time, id, type@version, subject, source, data); Ctrl-C stops',
})
export class TailCommand extends OpsCommand<TailOptions> {
  @Option({ flags: '--type <type>', description: 'only entries of this event type' })
  parseType(value: string): string {
    return value;
  }

  @Option({ flags: '--subject <subject>', description: 'only entries about this subject (e.g. an order id)' })
  parseSubject(value: string): string {
    return value;
  }

  @Option({
    flags: '--from <id|iso>',
    description: 'start at this stream id or time instead of the end ("0" for the beginning)',
  })
  parseFrom(value: string): string {
    return streamPosition(value);
  }

  @Option({ flags: '--limit <n>', description: 'exit after this many entries' })
  parseLimit(value: string): number {
    return positiveInt(value);
  }

  protected async execute([stream]: string[], options: TailOptions, ctx: CommandContext): Promise<number> {
    const path = `/ops/streams/${seg(stream)}/entries`;
    const stop = new AbortController();
    const dispose = onInterrupt(() => stop.abort());
    const width = !ctx.json && process.stdout.isTTY ? process.stdout.columns : undefined;
    let printed = 0;
    try {
      let cursor: string | undefined;
      try {
        cursor = options.from !== undefined ? cursorBefore(options.from) : await this.endOf(stream, ctx, stop.signal);
      } catch (error) {
        if (stop.signal.aborted) return 0;
        throw error;
      }
      while (!stop.signal.aborted) {
        let page: EntriesPage;
        try {
          page = await ctx.client.get<EntriesPage>(
            path,
            { order: 'oldest', cursor, count: PAGE, type: options.type, subject: options.subject },
            stop.signal,
          );
        } catch (error) {
          if (stop.signal.aborted) break;
          if (!isRateLimited(error)) throw error;
          await sleep(rateLimitPause(error, ctx), stop.signal);
          continue;
        }
        for (const entry of page.entries) {
          ctx.out(ctx.json ? JSON.stringify(entry) : entryLine(entry, width));
          if (options.limit !== undefined && ++printed >= options.limit) return 0;
        }
        // NOTE: with --type/--subject the server may have scanned past the last match: nextCursor says how far.
        cursor = page.nextCursor ?? page.entries.at(-1)?.id ?? cursor;
        if (page.entries.length < PAGE) await sleep(TAIL_POLL_MS, stop.signal);
      }
      return 0;
    } finally {
      dispose();
    }
  }

  /** The stream's last id, so that only what arrives from now on is shown. */
  private async endOf(stream: string, ctx: CommandContext, signal: AbortSignal): Promise<string | undefined> {
    const streams = await ctx.client.get<StreamInfo[]>('/ops/streams', undefined, signal);
    return streams.find((s) => s.stream === stream)?.lastId ?? undefined;
  }

  @Help('after')
  examples(): string {
    return `
Starts at the end of the stream (only new entries) unless --from is given. Polls every ${TAIL_POLL_MS} ms.
With --json, one JSON object per line (NDJSON) with every envelope field.

Examples:
  $ npm run -s cli -- tail orders
  $ npm run -s cli -- tail orders --type OrderPlaced --subject ORD-7701
  $ npm run -s cli -- tail payments --from 2024-05-01T10:00:00Z --limit 50
  $ npm run -s cli -- tail orders --from 0 --json | jq -c '{id, type, subject}'`;
  }
}
