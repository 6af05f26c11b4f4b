import { Help, Option, SubCommand } from 'nest-commander';
import { InvalidArgumentError, positiveInt } from '../args';
import { deadLettersTable } from '../format';
import { seg } from '../ops-client';
import { CommandContext, json } from '../ops-command';
import type { DeadLetter } from '../ops.types';
import { DlqFilterCommand, DlqFilterOptions } from './dlq-filter';

interface DlqLsOptions extends DlqFilterOptions {
  count?: number;
  after?: string;
}

@SubCommand({
  name: 'ls',
  arguments: '<stream>',
  argsDescription: { stream: 'stream whose dead letters to list, e.g. orders' },
  description: 'list dead letters, oldest first: reason, type, group, handler, attempts, error',
})
export class DlqLsCommand extends DlqFilterCommand<DlqLsOptions> {
  @Option({ flags: '--count <n>', description: 'at most this many (the server decides when absent)' })
  parseCount(value: string): number {
    return positiveInt(value);
  }

  @Option({
    flags: '--after <id>',
    description: 'the next page: dead letters after this id (the last one of the previous page)',
  })
  parseAfter(value: string): string {
    if (!/^(p\d+\/)?\d+-\d+$/.test(value))
      throw new InvalidArgumentError(
        'Expected a dead-letter id (1736154100000-0, or p3/1736154100000-0 on partitioned streams).',
      );
    return value;
  }

  protected async execute([stream]: string[], options: DlqLsOptions, ctx: CommandContext): Promise<void> {
    const letters = await ctx.client.get<DeadLetter[]>(`/ops/streams/${seg(stream)}/dead-letters`, {
      group: options.group,
      reason: options.reason,
      type: options.type,
      count: options.count,
      after: options.after,
    });
    ctx.out(ctx.json ? json(letters) : deadLettersTable(stream, letters));
  }

  @Help('after')
  examples(): string {
    return `
With --json, every field, the original envelope included.

Examples:
  $ npm run -s cli -- dlq ls orders
  $ npm run -s cli -- dlq ls orders --group payment --reason handler-failed --count 20
  $ npm run -s cli -- dlq ls orders --count 100 --after 1736154100000-0
  $ npm run -s cli -- dlq ls orders --type OrderPlaced --json | jq '.[].envelope'`;
  }
}
