import { Module, OnModuleInit } from '@nestjs/common';
import { InjectCommander } from 'nest-commander';
import { DlqLsCommand } from './commands/dlq-ls.command';
import { DlqPurgeCommand } from './commands/dlq-purge.command';
import { DlqRedriveCommand } from './commands/dlq-redrive.command';
import { DlqCommand } from './commands/dlq.command';
import { FlowCommand } from './commands/flow.command';
import { GroupsCommand } from './commands/groups.command';
import { PendingCommand } from './commands/pending.command';
import { PublishCommand } from './commands/publish.command';
import { ReplayCommand } from './commands/replay.command';
import { StreamsCommand } from './commands/streams.command';
import { TailCommand } from './commands/tail.command';
import { DEFAULT_URL } from './ops-client';

/** What this file uses of nest-commander's commander 11 `Command` (the root `commander` package is another major). */
interface Program {
  name(name: string): this;
  description(text: string): this;
  addHelpText(position: 'after', text: string): this;
}

/** Names the program and says, under `--help`, how to point it at a platform and what exit codes mean. */
export class ProgramHelp implements OnModuleInit {
  constructor(@InjectCommander() private readonly program: Program) {}

  onModuleInit(): void {
    this.program
      .name('cli')
      .description("Operators' CLI of the event platform: a client of its operations API (/ops).")
      .addHelpText(
        'after',
        `
Every command takes --url <url> (default $PLATFORM_URL, else ${DEFAULT_URL}),
--api-key <key> (default $API_KEY, sent as x-api-key) and --json. "cli <command> --help" for more.

Exit codes: 0 ok, 1 usage error or request refused (4xx), 2 server error or platform unreachable,
130 interrupted while waiting for a replay (which is then cancelled).

Examples:
  $ export PLATFORM_URL=http://127.0.0.1:3000 API_KEY=...
  $ npm run -s cli -- streams
  $ npm run -s cli -- groups orders
  $ npm run -s cli -- tail orders --type OrderPlaced
  $ npm run -s cli -- dlq ls orders --group payment
  $ npm run -s cli -- flow ORD-MB2K1X7Q-3FA91C
  $ npm run -s cli -- replay orders --group analytics --from 2024-05-01T00:00:00Z --dry-run`,
      );
  }
}

@Module({
  providers: [
    ProgramHelp,
    StreamsCommand,
    GroupsCommand,
    PendingCommand,
    TailCommand,
    ReplayCommand,
    DlqCommand,
    DlqLsCommand,
    DlqRedriveCommand,
    DlqPurgeCommand,
    PublishCommand,
    FlowCommand,
  ],
})
export class CliModule {}
