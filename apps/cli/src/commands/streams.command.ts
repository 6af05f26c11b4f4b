import { Command, Help } from 'nest-commander';
import { streamsTable } from '../format';
import { CommandContext, json, OpsCommand } from '../ops-command';
import type { StreamInfo } from '../ops.types';

@Command({
  name: 'streams',
  description: 'list the streams: length, first and last entry, groups, dead letters, retention',
})
export class StreamsCommand extends OpsCommand {
  protected async execute(_params: string[], _options: unknown, ctx: CommandContext): Promise<void> {
    const streams = await ctx.client.get<StreamInfo[]>('/ops/streams');
    ctx.out(ctx.json ? json(streams) : streamsTable(streams));
  }

  @Help('after')
  examples(): string {
    return `
Examples:
  $ npm run -s cli -- streams
  $ npm run -s cli -- streams --url http://ops.internal:3000 --api-key $KEY
  $ npm run -s cli -- streams --json | jq '.[] | select(.deadLetters > 0) | .stream'`;
  }
}
