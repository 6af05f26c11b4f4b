import { ValidateBy, ValidationOptions } from 'class-validator';
import { STREAM_ID_PATTERN } from '../ops.constants';

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/** A stream id (`<ms>` or `<ms>-<seq>`) or an ISO 8601 time. */
export function isIdOrTime(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    (STREAM_ID_PATTERN.test(value) || (ISO_TIME.test(value) && Number.isFinite(Date.parse(value))))
  );
}

export function IsIdOrTime(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isIdOrTime',
      validator: {
        validate: (value) => isIdOrTime(value),
        defaultMessage: (args) =>
          `${args?.property ?? 'value'} must be a stream id (1700000000000-0) or an ISO 8601 time (2025-01-31T12:00:00Z)`,
      },
    },
    options,
  );
}

/** A time as `time` by itself: ISO 8601 only. */
export function isIsoTime(value: unknown): value is string {
  return typeof value === 'string' && ISO_TIME.test(value) && Number.isFinite(Date.parse(value));
}
