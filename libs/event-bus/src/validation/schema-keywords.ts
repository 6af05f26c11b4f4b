import Ajv, { type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import * as cv from 'class-validator';

export type JsonSchema = { [keyword: string]: unknown };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Ctor = new (...args: any[]) => object;
export type StringCheck = (value: string) => boolean;

/** A JSON scalar for which `===` (class-validator) and deep equality (ajv enum/const) agree. */
export const isPrimitive = (v: unknown): boolean =>
  v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

/** Plain JSON data (what survives JSON.stringify unchanged), so it can name a format deterministically. */
export function isJsonData(v: unknown): boolean {
  if (isPrimitive(v)) return true;
  if (Array.isArray(v)) return v.every(isJsonData);
  if (typeof v !== 'object' || Object.getPrototypeOf(v) !== Object.prototype) return false;
  return Object.values(v as object).every(isJsonData);
}

type EmailOptions = Parameters<typeof cv.isEmail>[1];
type UuidVersion = Parameters<typeof cv.isUUID>[1];
type IsoOptions = Parameters<typeof cv.isISO8601>[1];
type UrlOptions = Parameters<typeof cv.isURL>[1];

// NOTE: a strict subset of what validator.js's isEmail accepts with default options, checked first
// because validator.js costs most of a fat event's validation; anything else still goes to it.
const PLAIN_EMAIL = /^[a-z0-9%+_-]+(?:\.[a-z0-9%+_-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
export const isPlainEmail = (s: string): boolean => s.length <= 254 && s.indexOf('@') <= 64 && PLAIN_EMAIL.test(s);

/**
 * String decorators expressed as `format`: the format is implemented by the very function class-validator
 * calls (validator.js), NOT by ajv-formats, whose email/uuid/url/date-time differ (e.g. ajv-formats' uuid
 * accepts a "urn:uuid:" prefix, validator.js accepts ISO 8601 forms that RFC 3339 date-time rejects).
 * Non-default arguments are part of the format name ("uuid:[\"4\"]").
 */
export const FORMATS: Record<string, [base: string, check: (s: string, constraints: unknown[]) => boolean]> = {
  [cv.IS_EMAIL]: ['email', (s, c) => (c[0] === undefined && isPlainEmail(s)) || cv.isEmail(s, c[0] as EmailOptions)],
  [cv.IS_UUID]: ['uuid', (s, c) => cv.isUUID(s, c[0] as UuidVersion)],
  [cv.IS_ISO8601]: ['iso8601', (s, c) => cv.isISO8601(s, c[0] as IsoOptions)],
  [cv.IS_DATE_STRING]: ['iso8601', (s, c) => cv.isDateString(s, c[0] as IsoOptions)],
  [cv.IS_URL]: ['url', (s, c) => cv.isURL(s, c[0] as UrlOptions)],
};

/**
 * The ajv instance for generated schemas. Where JSON Schema and class-validator disagree on a keyword's
 * meaning we keep the standard keyword in the schema (it documents the contract in the catalogue) and
 * give it class-validator's meaning here:
 * - minLength/maxLength count like validator.js isLength (a U+FE0E/U+FE0F variation selector is not a
 *   character), not in code points;
 * - `pattern` is compiled without the "u" flag, i.e. as `new RegExp(source)` like @Matches;
 * - strictNumbers: NaN/Infinity are not numbers/integers (class-validator's default as well).
 */
export function createAjv(): { ajv: Ajv; addFormats(formats: Map<string, StringCheck>): void } {
  const ajv = new Ajv({
    allErrors: true,
    verbose: true,
    strictTypes: false,
    unicodeRegExp: false,
    strictNumbers: true,
  });
  addFormats(ajv); // standard formats stay available; every format we emit is (re)defined below
  for (const [keyword, check] of [
    ['minLength', cv.minLength],
    ['maxLength', cv.maxLength],
  ] as const) {
    ajv.removeKeyword(keyword);
    ajv.addKeyword({
      keyword,
      type: 'string',
      schemaType: 'number',
      validate: (limit: number, data: string) => check(data, limit),
    });
  }
  const ours = new Set<string>();
  return {
    ajv,
    addFormats(formats) {
      for (const [name, validate] of formats) {
        if (ours.has(name)) continue;
        ajv.addFormat(name, { type: 'string', validate });
        ours.add(name);
      }
    },
  };
}

const FORMAT_TEXT: Record<string, string> = {
  email: 'an email',
  uuid: 'a UUID',
  iso8601: 'a valid ISO 8601 date string',
  url: 'a URL address',
};
const article = (word: string) => (/^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`);

/** A readable message for one ajv error; `subject` is e.g. "quantity" or "each value in tags". */
export function describeError(e: ErrorObject, subject: string): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `${subject} is required`;
    case 'type':
      return `${subject} must be ${String(p.type).split(',').map(article).join(' or ')}`;
    case 'minimum':
      return `${subject} must not be less than ${String(p.limit)}`;
    case 'maximum':
      return `${subject} must not be greater than ${String(p.limit)}`;
    case 'exclusiveMinimum':
      return `${subject} must be a positive number`;
    case 'exclusiveMaximum':
      return `${subject} must be a negative number`;
    case 'minLength':
      return `${subject} must be longer than or equal to ${String(e.schema)} characters`;
    case 'maxLength':
      return `${subject} must be shorter than or equal to ${String(e.schema)} characters`;
    case 'minItems':
      return `${subject} must contain at least ${String(p.limit)} elements`;
    case 'maxItems':
      return `${subject} must contain no more than ${String(p.limit)} elements`;
    case 'pattern':
      return `${subject} must match /${String(p.pattern)}/`;
    case 'format':
      return `${subject} must be ${FORMAT_TEXT[String(p.format).split(':')[0]] ?? `a valid ${String(p.format)}`}`;
    case 'enum':
      return `${subject} must be one of the following values: ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `${subject} must be equal to ${JSON.stringify(p.allowedValue)}`;
    case 'not':
      return (e.schema as JsonSchema).enum
        ? `${subject} should not be empty`
        : `${subject} should not be null or undefined`;
    default:
      return `${subject} ${e.message ?? 'is invalid'}`;
  }
}
