import 'reflect-metadata';
import { TransformationType } from 'class-transformer';
import type { MetadataStorage as TransformerStorage } from 'class-transformer/types/MetadataStorage';
import * as cv from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';
import { validationMetadataArrayToSchemas } from 'class-validator-jsonschema';
import { FORMATS, isJsonData, isPrimitive, type Ctor, type JsonSchema, type StringCheck } from './schema-keywords';

// class-transformer does not type its storage entry point; this is the singleton @Type/@Expose write to.
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const transformer = (require('class-transformer/cjs/storage') as { defaultMetadataStorage: TransformerStorage })
  .defaultMetadataStorage;

/** What the ajv path needs: the schema, the nested-class map (to attribute errors), the formats it uses. */
export interface PayloadSchema {
  schema: JsonSchema;
  nested: Map<Ctor, Map<string, Ctor>>;
  formats: Map<string, StringCheck>;
}
export type SchemaBuild = ({ ok: true } & PayloadSchema) | { ok: false; reason: string };

type Part = JsonSchema | undefined; // undefined: this decorator/argument combination has no faithful schema
const MARK = 'x-cv-part-';
const ANNOTATIONS = ['title', 'description', 'examples', 'deprecated'];
const nonNegInt = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0;
const finite = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n);
const enumOf = (values: unknown[]): Part =>
  values.length > 0 && values.every(isPrimitive) ? { enum: [...new Set(values)] } : undefined;

/**
 * The allow-list: class-validator decorator name → schema with the same verdict for every JSON value
 * (checked against class-validator's own implementations; see payload-validator.spec.ts).
 * Anything absent here (custom constraints, @ValidateIf, IsDate, ArrayUnique, option bags we do not
 * model...) makes the whole class fall back to class-validator.
 */
const CONVERTERS: Record<string, (c: unknown[], formats: Map<string, StringCheck>) => Part> = {
  [cv.IS_STRING]: () => ({ type: 'string' }),
  [cv.IS_INT]: () => ({ type: 'integer' }),
  [cv.IS_BOOLEAN]: () => ({ type: 'boolean' }),
  [cv.IS_ARRAY]: () => ({ type: 'array' }),
  [cv.IS_OBJECT]: () => ({ type: 'object' }),
  [cv.IS_NUMBER]: ([o]) =>
    o !== null && typeof o === 'object' && isJsonData(o) && !Object.keys(o).length ? { type: 'number' } : undefined,
  [cv.IS_NOT_EMPTY]: () => ({ not: { enum: ['', null] } }),
  [cv.IS_DEFINED]: () => ({ not: { type: 'null' } }),
  [cv.MIN]: ([n]) => (finite(n) ? { type: 'number', minimum: n } : undefined),
  [cv.MAX]: ([n]) => (finite(n) ? { type: 'number', maximum: n } : undefined),
  [cv.IS_POSITIVE]: () => ({ type: 'number', exclusiveMinimum: 0 }),
  [cv.IS_NEGATIVE]: () => ({ type: 'number', exclusiveMaximum: 0 }),
  [cv.EQUALS]: ([v]) => (isPrimitive(v) ? { const: v } : undefined),
  [cv.IS_IN]: ([values]) => (Array.isArray(values) ? enumOf(values) : undefined),
  [cv.IS_ENUM]: ([e]) =>
    e && typeof e === 'object' ? enumOf(Object.keys(e).map((k) => (e as Record<string, unknown>)[k])) : undefined,
  // minLength/maxLength are re-implemented in our ajv instance with validator.js's isLength counting.
  [cv.MIN_LENGTH]: ([n]) => (nonNegInt(n) ? { type: 'string', minLength: n } : undefined),
  [cv.MAX_LENGTH]: ([n]) => (nonNegInt(n) ? { type: 'string', maxLength: n } : undefined),
  [cv.IS_LENGTH]: ([min, max]) =>
    nonNegInt(min) && (max === undefined || nonNegInt(max))
      ? { type: 'string', minLength: min, ...(max === undefined ? {} : { maxLength: max }) }
      : undefined,
  // ajv runs with unicodeRegExp:false, so `pattern` is exactly `new RegExp(source)`; other flags cannot be carried.
  [cv.MATCHES]: ([p, m]) => {
    if (p instanceof RegExp) return /^g?$/.test(p.flags) ? { type: 'string', pattern: p.source } : undefined;
    return typeof p === 'string' && (m === undefined || m === '' || m === 'g')
      ? { type: 'string', pattern: p }
      : undefined;
  },
  [cv.ARRAY_MIN_SIZE]: ([n]) => (nonNegInt(n) ? { type: 'array', minItems: n } : undefined),
  [cv.ARRAY_MAX_SIZE]: ([n]) => (nonNegInt(n) ? { type: 'array', maxItems: n } : undefined),
  [cv.ARRAY_NOT_EMPTY]: () => ({ type: 'array', minItems: 1 }),
};
for (const [name, [base, check]] of Object.entries(FORMATS)) {
  CONVERTERS[name] = (c, formats) => {
    if (!c.every((x) => x === undefined || (x !== null && isJsonData(x)))) return undefined;
    const format = c.every((x) => x === undefined) ? base : `${base}:${JSON.stringify(c)}`;
    formats.set(format, (s) => check(s, c));
    return { type: 'string', format };
  };
}

/** Folds the parts of one property into one schema; conflicting keywords go to `allOf`. */
function combine(parts: JsonSchema[]): JsonSchema {
  if (parts.length === 1) return parts[0];
  const merged: JsonSchema = {};
  const rest: JsonSchema[] = [];
  for (const part of parts) {
    const clash = Object.keys(part).some((k) => {
      if (!(k in merged) || JSON.stringify(merged[k]) === JSON.stringify(part[k])) return false;
      return !(k === 'type' && [merged[k], part[k]].every((t) => t === 'number' || t === 'integer'));
    });
    if (clash || '$ref' in part) rest.push(part);
    else for (const [k, v] of Object.entries(part)) merged[k] = k === 'type' && merged[k] === 'integer' ? 'integer' : v;
  }
  if (rest.length) merged.allOf = rest;
  return merged;
}

const BUILTIN_TYPES: unknown[] = [String, Number, Boolean, Date, Object, Array, Map, Set, Promise];

/** Why `prop` of `cls` cannot be checked by schema for reasons outside its validation decorators. */
function transformerObstacle(
  cls: Ctor,
  prop: string,
  probe: Record<string, unknown>,
  nested: boolean,
): string | undefined {
  if (prop in (cls.prototype as object)) return 'a validated property shadows a prototype member';
  if (probe[prop] !== undefined) return 'a validated property has a default value (plainToInstance keeps it)';
  if (transformer.findTransformMetadatas(cls, prop, TransformationType.PLAIN_TO_CLASS).length) return '@Transform';
  if (!nested && transformer.findTypeMetadata(cls, prop)) return '@Type on a property without @ValidateNested';
  return undefined;
}

function nestedTarget(cls: Ctor, prop: string): Ctor | string {
  const meta = transformer.findTypeMetadata(cls, prop);
  if (!meta) return '@ValidateNested without @Type';
  if (meta.options?.discriminator) return '@Type with a discriminator';
  if (meta.reflectedType === Map || meta.reflectedType === Set) return '@ValidateNested on a Map/Set';
  try {
    const target = meta.typeFunction();
    if (typeof target !== 'function' || BUILTIN_TYPES.includes(target)) return '@Type of a built-in';
    return target as Ctor;
  } catch {
    return '@Type function throws';
  }
}

/** Builds one definition; returns a reason string when the class needs class-validator. */
function classSchema(cls: Ctor, refOf: (c: Ctor) => string, out: PayloadSchema, queue: Ctor[]): JsonSchema | string {
  const metas = cv.getMetadataStorage().getTargetValidationMetadatas(cls, '', false, false, undefined);
  if (!metas.length) return 'no class-validator metadata';
  if (
    transformer.getStrategy(cls) !== 'none' ||
    transformer.getExposedMetadatas(cls).length ||
    transformer.getExcludedMetadatas(cls).length
  )
    return '@Expose/@Exclude';
  let probe: Record<string, unknown>;
  try {
    probe = new cls() as Record<string, unknown>;
  } catch {
    return 'constructor throws without arguments';
  }
  const optional = new Set<string>();
  const nested = new Map<string, Ctor>();
  const copies: ValidationMetadata[] = [];
  const originals = new Map<ValidationMetadata, ValidationMetadata>();
  for (const m of metas) {
    const where = `${cls.name}.${m.propertyName}`;
    if (m.groups?.length || m.always !== undefined) return `${where}: groups/always`;
    if (m.type === cv.ValidationTypes.WHITELIST) continue;
    const isNested = m.type === cv.ValidationTypes.NESTED_VALIDATION;
    const hasNested = metas.some(
      (x) => x.propertyName === m.propertyName && x.type === cv.ValidationTypes.NESTED_VALIDATION,
    );
    const obstacle = transformerObstacle(cls, m.propertyName, probe, hasNested);
    if (obstacle) return `${where}: ${obstacle}`;
    if (m.type === cv.ValidationTypes.CONDITIONAL_VALIDATION && m.name === cv.IS_OPTIONAL) {
      optional.add(m.propertyName);
      continue;
    }
    if (isNested) {
      const target = nestedTarget(cls, m.propertyName);
      if (typeof target === 'string') return `${where}: ${target}`;
      nested.set(m.propertyName, target);
      queue.push(target);
    } else if (!(
      (m.type === cv.ValidationTypes.CUSTOM_VALIDATION || m.type === cv.IS_DEFINED) &&
      m.name &&
      CONVERTERS[m.name]
    )) {
      return `${where}: @${m.name ?? m.type} is not on the allow-list`;
    }
    // The library groups by property and merges converter outputs; every copy shares `target` so that
    // inheritance is exactly what class-validator resolved above, and `each` is applied by us.
    const copy = { ...m, target: cls, type: isNested ? m.type : m.name!, each: false } as ValidationMetadata;
    originals.set(copy, m);
    copies.push(copy);
  }
  out.nested.set(cls, nested);

  let failure: string | undefined;
  let seq = 0;
  const convert = (copy: ValidationMetadata) => {
    const m = originals.get(copy)!;
    let part: Part =
      m.type === cv.ValidationTypes.NESTED_VALIDATION
        ? { $ref: `${refOf(nested.get(m.propertyName)!)}.nested` }
        : CONVERTERS[m.name!](m.constraints ?? [], out.formats);
    if (!part) failure ??= `${cls.name}.${m.propertyName}: @${m.name} arguments have no faithful schema`;
    else if (m.each && m.type !== cv.ValidationTypes.NESTED_VALIDATION)
      part = { if: { type: 'array' }, then: { items: part }, else: part };
    return { [MARK + seq++]: part ?? {} };
  };
  const additionalConverters = Object.fromEntries(copies.map((c) => [c.type, convert]));
  const lib = Object.values(validationMetadataArrayToSchemas(copies, { additionalConverters }))[0] as
    JsonSchema | undefined;
  if (failure) return failure;

  const libProps = (lib?.properties ?? {}) as Record<string, JsonSchema>;
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  let found = 0; // every converter output must survive the library's merge and @JSONSchema decorators
  for (const prop of new Set(metas.map((m) => m.propertyName))) {
    const fromLib = libProps[prop] ?? {};
    const parts = Object.keys(fromLib)
      .filter((k) => k.startsWith(MARK))
      .map((k) => fromLib[k] as JsonSchema);
    found += parts.length;
    let schema = parts.length ? combine(parts) : {};
    // Every allow-listed non-nested decorator rejects `undefined`; @ValidateNested alone skips it.
    if (!optional.has(prop) && parts.some((p) => !('$ref' in p))) required.push(prop);
    if (optional.has(prop) && parts.length) schema = { anyOf: [{ type: 'null' }, schema] };
    for (const k of ANNOTATIONS) if (k in fromLib) schema[k] = fromLib[k];
    properties[prop] = schema;
  }
  if (found !== seq) return 'a @JSONSchema decorator rewrote the generated property schemas';
  const result: JsonSchema = { type: 'object', properties };
  if (required.length) result.required = required;
  for (const k of ANNOTATIONS) if (lib && k in lib) result[k] = lib[k];
  return result;
}

/** JSON Schema (draft-07) of `root` that, under our ajv instance, gives class-validator's verdict per field. */
export function buildPayloadSchema(root: Ctor): SchemaBuild {
  const out: PayloadSchema = { schema: {}, nested: new Map(), formats: new Map() };
  const names = new Map<Ctor, string>();
  const refOf = (c: Ctor): string => {
    if (!names.has(c)) {
      const base = (c.name || 'Anonymous').replace(/[^\w$-]/g, '_');
      let name = base;
      for (let i = 2; [...names.values()].includes(name); i++) name = `${base}_${i}`;
      names.set(c, name);
    }
    return `#/definitions/${names.get(c)}`;
  };
  refOf(root);
  const schemas = new Map<Ctor, JsonSchema>();
  const queue: Ctor[] = [root];
  for (let cls = queue.shift(); cls; cls = queue.shift()) {
    if (schemas.has(cls)) continue;
    const schema = classSchema(cls, refOf, out, queue);
    if (typeof schema === 'string') return { ok: false, reason: `${cls.name}: ${schema}` };
    schemas.set(cls, schema);
  }
  const definitions: Record<string, JsonSchema> = {};
  const targets = new Set([...out.nested.values()].flatMap((m) => [...m.values()]));
  for (const [cls, schema] of schemas) {
    if (!targets.has(cls)) continue; // only the root can be unreferenced
    const ref = refOf(cls);
    const name = ref.slice('#/definitions/'.length);
    definitions[name] = schema;
    // class-validator's @ValidateNested walks arrays (and arrays of arrays) and validates the objects in them.
    definitions[`${name}.nested`] = {
      if: { type: 'array' },
      then: { items: { $ref: `${ref}.nested` } },
      else: { $ref: ref },
    };
  }
  out.schema = { $schema: 'http://json-schema.org/draft-07/schema#', title: root.name, ...schemas.get(root) };
  if (Object.keys(definitions).length) out.schema.definitions = definitions;
  return { ok: true, ...out };
}
