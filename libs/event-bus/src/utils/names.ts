import { BAD_NAME } from '../event-bus.messages';

const NAME_PATTERN = /^[A-Za-z0-9._:-]{1,200}$/;

/** Stream, group and namespace names end up inside Redis keys: keep them to a safe alphabet. */
export function assertName(what: string, value: string): string {
  if (!NAME_PATTERN.test(value)) throw new Error(BAD_NAME(what, value));
  return value;
}
