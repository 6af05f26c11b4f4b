import { Command, Help } from 'nest-commander';
import { flowText } from '../flow-format';
import { seg } from '../ops-client';
import { CommandContext, json, OpsCommand } from '../ops-command';
import type { FlowView } from '../ops.types';

@Command({
  name: 'flow',
  arguments: '<id>',
  argsDescription: { id: 'a correlation id, an event id, or a subject such as an order id (its latest flow)' },
  description:
    'show every event of one business flow as a tree by causation, with what each consumer group did with each',
})
export class FlowCommand extends OpsCommand {
  protected async execute([id]: string[], _options: unknown, ctx: CommandContext): Promise<void> {
    const view = await ctx.client.get<FlowView>(`/ops/flows/${seg(id)}`);
    ctx.out(ctx.json ? json(view) : flowText(id, view));
  }

  @Help('after')
  examples(): string {
    return `
Status of a group: handled (when, after how many attempts), pending (consumer, idle time),
dead-lettered (reason and error), acknowledged (delivered, no handler of the type ran), not-delivered-yet.

Examples:
  $ npm run -s cli -- flow ORD-MB2K1X7Q-3FA91C
  $ npm run -s cli -- flow 0f8fad5b-d9cb-469f-a165-70867728950e --json`;
  }
}
