import { Help, SubCommand } from 'nest-commander';
import { seg } from '../ops-client';
import { CommandContext, json } from '../ops-command';
import { DlqActionCommand, DlqActionOptions, describeFilter, filterBody } from './dlq-filter';

@SubCommand({
  name: 'redrive',
  arguments: '<stream>',
  argsDescription: { stream: 'stream whose dead letters to redrive' },
  description: 'send dead letters back to the group that failed them (and to no other group)',
})
export class DlqRedriveCommand extends DlqActionCommand {
  protected async execute([stream]: string[], options: DlqActionOptions, ctx: CommandContext): Promise<void> {
    const body = filterBody(stream, options, 'redrive');
    const result = await ctx.client.post<{ redriven: number }>(
      `/ops/streams/${seg(stream)}/dead-letters/redrive`,
      body,
    );
    ctx.out(ctx.json ? json(result) : `redrove ${result.redriven} ${describeFilter(body)} of ${stream}`);
  }

  @Help('after')
  examples(): string {
    return `
Examples:
  $ npm run -s cli -- dlq redrive orders --id 1714557600000-0 --id 1714557600001-0
  $ npm run -s cli -- dlq redrive orders --group payment --reason handler-failed
  $ npm run -s cli -- dlq redrive orders --all`;
  }
}
