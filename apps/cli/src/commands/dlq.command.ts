import { Command, CommandRunner, Help } from 'nest-commander';
import { DlqLsCommand } from './dlq-ls.command';
import { DlqPurgeCommand } from './dlq-purge.command';
import { DlqRedriveCommand } from './dlq-redrive.command';

@Command({
  name: 'dlq',
  description: 'dead letters of a stream: ls, redrive, purge',
  subCommands: [DlqLsCommand, DlqRedriveCommand, DlqPurgeCommand],
})
export class DlqCommand extends CommandRunner {
  async run(): Promise<void> {
    // NOTE: `dlq` alone is a usage error: show what it takes.
    this.command.help({ error: true });
  }

  @Help('after')
  examples(): string {
    return `
Examples:
  $ npm run -s cli -- dlq ls orders --group payment
  $ npm run -s cli -- dlq redrive orders --reason handler-failed
  $ npm run -s cli -- dlq purge orders --type LegacyEvent --yes`;
  }
}
