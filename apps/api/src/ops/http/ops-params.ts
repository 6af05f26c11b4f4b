import { BadRequestException, Injectable, NotFoundException, PipeTransform } from '@nestjs/common';
import { contractRegistry } from '@nest-streams/event-bus/catalogue';
import { NAME_PATTERN, PARTITION_ENTRY_ID_PATTERN } from '../ops.constants';

/** The streams the operations API may touch: those named by a registered event contract. */
export function registeredStreams(): Set<string> {
  return new Set(contractRegistry.all().map(({ meta }) => meta.stream));
}

/** 400 for a malformed stream name, 404 for a well-formed one no contract names. */
export function assertRegisteredStream(stream: unknown, field = 'stream'): string {
  if (typeof stream !== 'string' || !NAME_PATTERN.test(stream)) {
    throw new BadRequestException(`malformed ${field} name: use letters, digits, '.', '_', '-' and ':' only`);
  }
  if (!registeredStreams().has(stream))
    throw new NotFoundException(`unknown stream "${stream}": only streams of registered event contracts are reachable`);
  return stream;
}

/** `:stream`: a registered stream, else 400/404 before anything touches Redis. */
@Injectable()
export class RegisteredStreamPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    return assertRegisteredStream(value);
  }
}

/** `:group`, `:consumer`: a name from the safe alphabet. */
@Injectable()
export class SafeNamePipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!NAME_PATTERN.test(value))
      throw new BadRequestException(
        `malformed name "${value.slice(0, 64)}": use letters, digits, '.', '_', '-' and ':' only`,
      );
    return value;
  }
}

/** `:id`: a complete stream entry id (`<ms>-<seq>`), of partition k as `p<k>/<ms>-<seq>` (URL-encoded `p<k>%2F<ms>-<seq>`). */
@Injectable()
export class EntryIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!PARTITION_ENTRY_ID_PATTERN.test(value))
      throw new BadRequestException(
        'malformed entry id: expected <milliseconds>-<sequence>, e.g. 1700000000000-0 (p<partition>/<milliseconds>-<sequence> on partitioned streams)',
      );
    return value;
  }
}
