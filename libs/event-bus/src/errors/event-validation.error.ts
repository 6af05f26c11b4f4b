import type { FieldError } from '../validation/payload-validator';
import { INVALID_PAYLOAD } from '../event-bus.messages';

/** A payload broke its contract; `fields` names each invalid field. Nothing was published. */
export class EventValidationError extends Error {
  constructor(
    readonly eventType: string,
    readonly fields: FieldError[],
  ) {
    super(
      INVALID_PAYLOAD(eventType, fields.map((f) => `${f.field || '(payload)'}: ${f.messages.join(', ')}`).join('; ')),
    );
    this.name = 'EventValidationError';
  }
}
