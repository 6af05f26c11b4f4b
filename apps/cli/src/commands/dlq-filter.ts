import { Option } from 'nest-commander';
import { collect } from '../args';
import { UsageError } from '../ops-client';
import { ConnectionOptions, OpsCommand } from '../ops-command';
import type { DeadLetterFilterBody } from '../ops.types';

export interface DlqFilterOptions extends ConnectionOptions {
  group?: string;
  reason?: string;
  type?: string;
}

export interface DlqActionOptions extends DlqFilterOptions {
  id?: string[];
  all?: boolean;
}

/** `--group`, `--reason`, `--type`: all given conditions must hold. */
export abstract class DlqFilterCommand<O extends DlqFilterOptions> extends OpsCommand<O> {
  @Option({ flags: '--group <group>', description: 'only dead letters of this consumer group' })
  parseGroup(value: string): string {
    return value;
  }

  @Option({
    flags: '--reason <reason>',
    description: 'only this reason (handler-failed, invalid-payload, unknown-type, ...)',
  })
  parseReason(value: string): string {
    return value;
  }

  @Option({ flags: '--type <type>', description: 'only this event type' })
  parseType(value: string): string {
    return value;
  }
}

/** Filters plus `--id` and `--all`, for redrive and purge. */
export abstract class DlqActionCommand extends DlqFilterCommand<DlqActionOptions> {
  @Option({ flags: '--id <id...>', description: 'these dead-letter ids (repeatable)' })
  parseId(value: string, previous?: string[]): string[] {
    return collect(value, previous);
  }

  @Option({ flags: '--all', description: 'every dead letter of the stream (required when no other filter is given)' })
  parseAll(): boolean {
    return true;
  }
}

/** The request body; refuses to act on everything unless --all says so. */
export function filterBody(stream: string, options: DlqActionOptions, verb: string): DeadLetterFilterBody {
  const body: DeadLetterFilterBody = {
    ids: options.id,
    group: options.group,
    reason: options.reason,
    type: options.type,
    all: options.all ? true : undefined,
  };
  const narrowed = body.ids?.length || body.group || body.reason || body.type;
  if (!narrowed && !body.all) {
    throw new UsageError(
      `say which dead letters of ${stream} to ${verb}: --id, --group, --reason or --type, or --all for every one of them`,
    );
  }
  return body;
}

/** `group=payment reason=handler-failed`, or `every dead letter`. */
export function describeFilter(body: DeadLetterFilterBody): string {
  const parts: string[] = [];
  if (body.ids?.length) parts.push(`id=${body.ids.join(',')}`);
  if (body.group) parts.push(`group=${body.group}`);
  if (body.reason) parts.push(`reason=${body.reason}`);
  if (body.type) parts.push(`type=${body.type}`);
  return parts.length === 0 ? 'every dead letter' : `dead letters with ${parts.join(' ')}`;
}
