import { Command, Help } from 'nest-commander';
import { groupsTable } from '../format';
import { seg } from '../ops-client';
import { CommandContext, json, OpsCommand } from '../ops-command';
import type { GroupInfo } from '../ops.types';

@Command({
  name: 'groups',
  arguments: '<stream>',
  argsDescription: { stream: 'stream name, e.g. orders' },
  description: 'list the consumer groups of a stream: lag, pending, last delivered id, and their consumers',
})
export class GroupsCommand extends OpsCommand {
  protected async execute([stream]: string[], _options: unknown, ctx: CommandContext): Promise<void> {
    const groups = await ctx.client.get<GroupInfo[]>(`/ops/streams/${seg(stream)}/groups`);
    ctx.out(ctx.json ? json(groups) : groupsTable(stream, groups));
  }

  @Help('after')
  examples(): string {
    return `
Examples:
  $ npm run -s cli -- groups orders
  $ npm run -s cli -- groups payments --json`;
  }
}
