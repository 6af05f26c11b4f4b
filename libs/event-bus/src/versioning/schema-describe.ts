import type { JsonSchema } from '../validation/schema-keywords';

/** Keywords that document a schema without changing what it accepts. */
export const ANNOTATION_KEYWORDS = new Set([
  '$schema',
  '$comment',
  '$id',
  'title',
  'description',
  'examples',
  'default',
  'deprecated',
  'definitions',
  'readOnly',
  'writeOnly',
]);

const isSchema = (value: unknown): value is JsonSchema =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The keywords of `schema` that constrain values (annotations left out). */
export function constraintKeys(schema: JsonSchema): string[] {
  return Object.keys(schema).filter((k) => !ANNOTATION_KEYWORDS.has(k));
}

/** `X` for the optional wrapper the compiler emits (`anyOf: [{ type: 'null' }, X]`), else the schema itself. */
export function unwrapOptional(schema: JsonSchema): JsonSchema {
  const keys = constraintKeys(schema);
  const anyOf = schema.anyOf;
  if (keys.length !== 1 || keys[0] !== 'anyOf' || !Array.isArray(anyOf) || anyOf.length !== 2) return schema;
  const nullIndex = anyOf.findIndex((s) => isSchema(s) && constraintKeys(s).length === 1 && s.type === 'null');
  return nullIndex < 0 ? schema : (anyOf[1 - nullIndex] as JsonSchema);
}

/** Definition name of a local `$ref` (`#/definitions/OrderItem.nested` -> `OrderItem`). */
export function refName(ref: string): string {
  return ref.replace(/^#\/(definitions|components\/schemas)\//, '').replace(/\.nested$/, '');
}

/** A definition `$ref` points at in `root`, if it is a local one. */
export function resolveRef(ref: string, root: JsonSchema): JsonSchema | undefined {
  const match = /^#\/definitions\/(.+)$/.exec(ref);
  const definitions = root.definitions as Record<string, JsonSchema> | undefined;
  return match ? definitions?.[match[1]] : undefined;
}

/** A short human description of a property schema: `string (email)`, `array of OrderItem`, `integer >= 1`. */
export function describeSchema(schema: JsonSchema): string {
  const inner = unwrapOptional(schema);
  if (inner !== schema) return describeSchema(inner);
  if (typeof schema.$ref === 'string') return refName(schema.$ref);
  const refs = (Array.isArray(schema.allOf) ? schema.allOf : [])
    .filter(isSchema)
    .filter((s) => typeof s.$ref === 'string');
  let base = typeof schema.type === 'string' ? schema.type : Array.isArray(schema.type) ? schema.type.join(' | ') : '';
  if (refs.length === 1)
    base = base === 'array' ? `array of ${refName(refs[0].$ref as string)}` : refName(refs[0].$ref as string);
  if (!base && Array.isArray(schema.enum)) base = `one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  else if (Array.isArray(schema.enum)) base += ` (one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')})`;
  if ('const' in schema) base = `${base ? `${base} ` : ''}= ${JSON.stringify(schema.const)}`;
  if (isSchema(schema.items)) base = `array of ${describeSchema(schema.items)}`;
  return base || 'any';
}

/** The constraints of a property schema besides its type, in words: `format email`, `minimum 0`, `not empty`. */
export function describeConstraints(schema: JsonSchema): string[] {
  const s = unwrapOptional(schema);
  const out: string[] = [];
  if (typeof s.format === 'string') out.push(`format ${s.format}`);
  for (const k of [
    'minimum',
    'maximum',
    'exclusiveMinimum',
    'exclusiveMaximum',
    'minLength',
    'maxLength',
    'minItems',
    'maxItems',
    'pattern',
  ] as const) {
    if (k in s) out.push(`${k} ${JSON.stringify(s[k])}`);
  }
  const not = s.not;
  if (isSchema(not) && Array.isArray(not.enum) && not.enum.includes('')) out.push('not empty');
  else if (isSchema(not) && not.type === 'null') out.push('defined');
  return out;
}
