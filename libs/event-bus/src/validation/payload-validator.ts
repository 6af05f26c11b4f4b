/**
 * Payload validation for the event bus. class-validator decorators are the source of truth; for speed,
 * each payload class whose decorators are all on the allow-list of schema-compiler.ts is compiled ONCE
 * into a JSON Schema (through class-validator-jsonschema) and checked by ajv. Any other class (custom
 * constraints, @ValidateIf, groups, @Transform, ...) is validated by plainToInstance + validateSync.
 * Both paths report the same set of invalid fields for every input (payload-validator.spec.ts checks it).
 */
import 'reflect-metadata';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { targetConstructorToSchema, validationMetadatasToSchemas } from 'class-validator-jsonschema';
import { buildPayloadSchema, transformer, type PayloadSchema, type SchemaBuild } from './schema-compiler';
import { createAjv, describeError, type JsonSchema } from './schema-keywords';

/** `field` is a dotted path ("items.0.quantity"); "" is the payload itself. */
export interface FieldError {
  field: string;
  messages: string[];
}
export type ValidationResult<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };
export interface PayloadValidator<T> {
  /** true: ajv on the generated schema; false: class-validator (see fallbackReason). */
  readonly compiled: boolean;
  readonly fallbackReason?: string;
  /** ok → compiled: `data` itself (plain data, not copied); fallback: the class instance of plainToInstance. */
  validate(data: unknown): ValidationResult<T>;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type PayloadClass<T extends object = object> = new (...args: any[]) => T;

const isJsonObject = (data: unknown): data is object =>
  typeof data === 'object' && data !== null && !Array.isArray(data);
const notAnObject = (): FieldError[] => [{ field: '', messages: ['payload must be a JSON object'] }];

/** The reference path: plainToInstance + validateSync, unknown properties allowed. */
export function classValidatorValidate<T extends object>(cls: PayloadClass<T>, data: unknown): ValidationResult<T> {
  if (!isJsonObject(data)) return { ok: false, errors: notAnObject() };
  const instance = plainToInstance(cls, data);
  const errors = validateSync(instance);
  return errors.length ? { ok: false, errors: flatten(errors, []) } : { ok: true, value: instance };
}

function flatten(errors: ValidationError[], parent: string[], out: FieldError[] = []): FieldError[] {
  for (const e of errors) {
    const path = e.property === undefined ? parent : [...parent, e.property];
    const messages = Object.values(e.constraints ?? {});
    if (messages.length) out.push({ field: path.join('.'), messages });
    if (e.children?.length) flatten(e.children, path, out);
  }
  return out;
}

const builds = new WeakMap<PayloadClass, SchemaBuild>();
function build(cls: PayloadClass): SchemaBuild {
  let result = builds.get(cls);
  if (!result) {
    result = buildPayloadSchema(cls);
    builds.set(cls, result);
  }
  return result;
}

let ajv: ReturnType<typeof createAjv> | undefined;

function compiledValidator<T extends object>(cls: PayloadClass<T>, schema: PayloadSchema): PayloadValidator<T> {
  ajv ??= createAjv();
  ajv.addFormats(schema.formats);
  const check: ValidateFunction = ajv.ajv.compile(schema.schema);
  return {
    compiled: true,
    validate(data) {
      if (!isJsonObject(data)) return { ok: false, errors: notAnObject() };
      if (check(data)) return { ok: true, value: data as T };
      return { ok: false, errors: toFieldErrors(check.errors ?? [], data, cls, schema.nested) };
    },
  };
}

/**
 * Maps an ajv error to the field class-validator would name: a property's own decorators (including
 * `each: true` ones) report on the property; only @ValidateNested descends, through array indexes,
 * into the nested class's properties.
 */
function fieldPath(path: string[], data: unknown, root: PayloadClass, nested: PayloadSchema['nested']): string[] {
  const out: string[] = [];
  let cls: PayloadClass | undefined = root;
  let value = data;
  for (let i = 0; cls && i < path.length;) {
    const prop = path[i++];
    out.push(prop);
    cls = nested.get(cls)?.get(prop);
    value = cls ? (value as Record<string, unknown> | undefined)?.[prop] : undefined;
    while (cls && Array.isArray(value) && i < path.length) {
      out.push(path[i]);
      value = value[Number(path[i++])];
    }
  }
  return out;
}

function toFieldErrors(
  errors: ErrorObject[],
  data: object,
  root: PayloadClass,
  nested: PayloadSchema['nested'],
): FieldError[] {
  const byField = new Map<string, string[]>();
  for (const e of errors) {
    // Wrappers: their sub-errors carry the detail. type "null" is the @IsOptional branch of an anyOf.
    if (e.keyword === 'if' || e.keyword === 'anyOf' || (e.keyword === 'type' && e.params.type === 'null')) continue;
    const path = e.instancePath
      .split('/')
      .slice(1)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    if (e.keyword === 'required') path.push(String(e.params.missingProperty));
    const field = fieldPath(path, data, root, nested);
    const last =
      field.length > 1 && /^\d+$/.test(field[field.length - 1])
        ? field.slice(-2).join('.')
        : (field.at(-1) ?? 'payload');
    const message = describeError(e, path.length > field.length ? `each value in ${last}` : last);
    const key = field.join('.');
    const messages = byField.get(key) ?? byField.set(key, []).get(key)!;
    if (!messages.includes(message)) messages.push(message);
  }
  return [...byField].map(([field, messages]) => ({ field, messages }));
}

function fallbackValidator<T extends object>(cls: PayloadClass<T>, reason: string): PayloadValidator<T> {
  return { compiled: false, fallbackReason: reason, validate: (data) => classValidatorValidate(cls, data) };
}

const validators = new WeakMap<PayloadClass, PayloadValidator<object>>();

/** The validator for `cls`, built on first use and cached per class. */
export function createPayloadValidator<T extends object>(cls: PayloadClass<T>): PayloadValidator<T> {
  let validator = validators.get(cls) as PayloadValidator<T> | undefined;
  if (!validator) {
    const schema = build(cls);
    if (!schema.ok) validator = fallbackValidator(cls, schema.reason);
    else {
      try {
        validator = compiledValidator(cls, schema);
      } catch (error) {
        validator = fallbackValidator(cls, `ajv could not compile the schema: ${(error as Error).message}`);
      }
    }
    validators.set(cls, validator);
  }
  return validator;
}

/**
 * The JSON Schema (draft-07) of a payload class, e.g. for an AsyncAPI catalogue: exactly the schema the
 * compiled validator uses, or, for a class validated by class-validator, class-validator-jsonschema's
 * best-effort rendering marked with a `$comment`. Returns a fresh copy.
 */
export function payloadJsonSchema(cls: PayloadClass): JsonSchema {
  const result = build(cls);
  if (result.ok) return structuredClone(result.schema);
  const options = { classTransformerMetadataStorage: transformer };
  const all = validationMetadatasToSchemas(options) as Record<string, JsonSchema>;
  const schema = targetConstructorToSchema(cls, options) as JsonSchema;
  const definitions: Record<string, JsonSchema> = {};
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      const name = key === '$ref' && typeof value === 'string' ? value.replace('#/definitions/', '') : undefined;
      if (name && all[name] && !definitions[name]) visit((definitions[name] = all[name]));
      else visit(value);
    }
  };
  visit(schema);
  return structuredClone({
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: cls.name,
    $comment: `approximate: validated at runtime by class-validator (${result.reason})`,
    ...schema,
    ...(Object.keys(definitions).length ? { definitions } : {}),
  });
}
