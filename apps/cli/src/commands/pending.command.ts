import { Command, Help, Option } from 'nest-commander';
import { positiveInt } from '../args';
import { pendingTable } from '../format';
import { seg } from '../ops-client';
import { CommandContext, ConnectionOptions, json, OpsCommand } from '../ops-command';
import type { PendingEntry } from '../ops.types';

interface PendingOptions extends ConnectionOptions {
  count?: number;
}

@Command({
  name: 'pending',
  arguments: '<stream> <group>',
  argsDescription: { stream: 'stream name', group: 'consumer group' },
  description: "list a group's pending entries (read, not yet acknowledged): owner, idle time, deliveries",
})
export class PendingCommand extends OpsCommand<PendingOptions> {
  @Option({ flags: '--count <n>', description: 'at most this many entries (the server decides when absent)' })
  parseCount(value: string): number {
    return positiveInt(value);
  }

  protected async execute([stream, group]: string[], options: PendingOptions, ctx: CommandContext): Promise<void> {
    const entries = await ctx.client.get<PendingEntry[]>(`/ops/streams/${seg(stream)}/groups/${seg(group)}/pending`, {
      count: options.count,
    });
    ctx.out(ctx.json ? json(entries) : pendingTable(stream, group, entries));
  }

  @Help('after')
  examples(): string {
    return `
Examples:
  $ npm run -s cli -- pending orders inventory
  $ npm run -s cli -- pending orders payment --count 20 --json`;
  }
}
