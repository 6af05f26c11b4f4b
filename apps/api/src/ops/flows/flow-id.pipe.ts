import { BadRequestException, Injectable, PipeTransform } from '@nestjs/common';
import { FLOW_ID_PATTERN } from './flows.constants';

/** `:id` of a flow: a correlation id, event id or subject from a safe alphabet. */
@Injectable()
export class FlowIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!FLOW_ID_PATTERN.test(value)) {
      throw new BadRequestException(
        'malformed id: give a correlation id, event id or subject of 1-256 characters from A-Z a-z 0-9 . _ : @ + = ~ / -',
      );
    }
    return value;
  }
}
