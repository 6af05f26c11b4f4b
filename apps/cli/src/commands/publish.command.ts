import { Command, Help, Option } from 'nest-commander';
import { positiveInt, readData } from '../args';
import { CommandContext, ConnectionOptions, json, OpsCommand } from '../ops-command';
import type { PublishBody, Published } from '../ops.types';

interface PublishOptions extends ConnectionOptions {
  data: string;
  version?: number;
  subject?: string;
}

@Command({
  name: 'publish',
  arguments: '<type>',
  argsDescription: { type: 'event type, e.g. OrderPlaced (the platform picks the stream from its contract)' },
  description: 'publish one event through the platform (validated against its contract)',
})
export class PublishCommand extends OpsCommand<PublishOptions> {
  @Option({
    flags: '--data <json|@file>',
    description: 'the payload: JSON text, @file.json, or @- for stdin',
    required: true,
  })
  parseData(value: string): string {
    return value;
  }

  @Option({ flags: '--version <n>', description: "the contract's version (the server's default when absent)" })
  parseVersion(value: string): number {
    return positiveInt(value);
  }

  @Option({
    flags: '--subject <subject>',
    description: 'the subject (ordering key); the contract may derive it from the payload',
  })
  parseSubject(value: string): string {
    return value;
  }

  protected async execute([type]: string[], options: PublishOptions, ctx: CommandContext): Promise<void> {
    const body: PublishBody = {
      type,
      version: options.version,
      data: readData(options.data),
      subject: options.subject,
    };
    const published = await ctx.client.post<Published>('/ops/events', body);
    ctx.out(
      ctx.json
        ? json(published)
        : `published ${type} id=${published.id} to ${published.stream} as ${published.entryId}`,
    );
  }

  @Help('after')
  examples(): string {
    return `
Examples:
  $ npm run -s cli -- publish PaymentFailed --data '{"orderId":"ORD-7701","userId":"u-1","userEmail":"ada@example.com","amount":42,"currency":"EUR","reason":"card-declined","failedAt":"2024-05-01T10:00:00Z"}'
  $ npm run -s cli -- publish OrderPlaced --version 1 --data @order.json --subject ORD-7701
  $ cat order.json | npm run -s cli -- publish OrderPlaced --data @- --json`;
  }
}
