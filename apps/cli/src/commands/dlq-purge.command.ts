import { Help, Option, SubCommand } from 'nest-commander';
import { confirm } from '../confirm';
import { seg, UsageError } from '../ops-client';
import { CommandContext, json } from '../ops-command';
import { DlqActionCommand, DlqActionOptions, describeFilter, filterBody } from './dlq-filter';

interface DlqPurgeOptions extends DlqActionOptions {
  yes?: boolean;
}

@SubCommand({
  name: 'purge',
  arguments: '<stream>',
  argsDescription: { stream: 'stream whose dead letters to delete' },
  description: 'delete dead letters for good; asks first unless --yes',
})
export class DlqPurgeCommand extends DlqActionCommand {
  @Option({ flags: '--yes', description: 'do not ask for confirmation (required when stdin is not a terminal)' })
  parseYes(): boolean {
    return true;
  }

  protected async execute([stream]: string[], options: DlqPurgeOptions, ctx: CommandContext): Promise<number> {
    const body = filterBody(stream, options, 'purge');
    const what = `${describeFilter(body)} of ${stream}`;
    if (!options.yes) {
      if (!process.stdin.isTTY)
        throw new UsageError(`refusing to purge ${what} without --yes: there is no terminal to confirm on`);
      if (!(await confirm(`Delete ${what} for good?`, process.stdin, process.stderr))) {
        ctx.err('nothing purged');
        return 1;
      }
    }
    const result = await ctx.client.post<{ purged: number }>(`/ops/streams/${seg(stream)}/dead-letters/purge`, body);
    ctx.out(ctx.json ? json(result) : `purged ${result.purged} ${what}`);
    return 0;
  }

  @Help('after')
  examples(): string {
    return `
Examples:
  $ npm run -s cli -- dlq purge orders --reason invalid-payload
  $ npm run -s cli -- dlq purge orders --id 1714557600000-0 --yes
  $ npm run -s cli -- dlq purge orders --all --yes`;
  }
}
