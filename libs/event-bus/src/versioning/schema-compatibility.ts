import { isDeepStrictEqual } from 'node:util';
import type { JsonSchema } from '../validation/schema-keywords';
import { constraintKeys, describeSchema, resolveRef, unwrapOptional } from './schema-describe';

/** One way a newer version of a payload breaks readers of the older one. */
export interface Incompatibility {
  /** Dotted path of the field (`items.sku` inside the items of an array); '' for the payload itself. */
  field: string;
  change: 'removed' | 'added-required' | 'now-required' | 'now-optional' | 'changed';
  /** What happened, in words, to follow `field "x"` in a message. */
  detail: string;
}

export interface SchemaComparison {
  problems: Incompatibility[];
  /** Optional fields the newer version adds (the one change allowed), dotted paths. */
  added: string[];
}

const isSchema = (value: unknown): value is JsonSchema =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const SUBSCHEMA_KEYWORDS = new Set([
  'items',
  'if',
  'then',
  'else',
  'not',
  'additionalProperties',
  'contains',
  'propertyNames',
  'additionalItems',
]);
const SCHEMA_LIST_KEYWORDS = new Set(['allOf', 'anyOf', 'oneOf']);

/**
 * Compares the JSON Schemas of two consecutive versions of a payload (as `payloadJsonSchema`
 * renders them). The one compatible change is a new optional field, at the top level or inside a
 * nested object; anything else (a field removed or renamed, a new required field, a field that
 * became required or optional, a changed type or constraint, at any depth) is reported with the
 * field's path.
 */
export function compareSchemas(older: JsonSchema, newer: JsonSchema): SchemaComparison {
  const out: SchemaComparison = { problems: [], added: [] };
  new Comparer(older, newer, out).compare(older, newer, '');
  return out;
}

class Comparer {
  private readonly followed = new Set<string>();

  constructor(
    private readonly olderRoot: JsonSchema,
    private readonly newerRoot: JsonSchema,
    private readonly out: SchemaComparison,
  ) {}

  compare(a: JsonSchema, b: JsonSchema, field: string): void {
    const refA = typeof a.$ref === 'string' ? a.$ref : undefined;
    const refB = typeof b.$ref === 'string' ? b.$ref : undefined;
    if (refA || refB) {
      const targetA = refA ? resolveRef(refA, this.olderRoot) : a;
      const targetB = refB ? resolveRef(refB, this.newerRoot) : b;
      if (!targetA || !targetB) {
        if (!isDeepStrictEqual(a, b))
          this.problem(field, 'changed', `changed from ${describeSchema(a)} to ${describeSchema(b)}`);
        return;
      }
      // NOTE: nested definitions refer to themselves (arrays of arrays); each pair is compared once.
      const key = `${refA ?? '-'}|${refB ?? '-'}`;
      if (this.followed.has(key)) return;
      this.followed.add(key);
      return this.compare(targetA, targetB, field);
    }
    if (isSchema(a.properties) && isSchema(b.properties)) this.compareObjects(a, b, field);
    const keysA = constraintKeys(a).filter((k) => k !== 'properties' && k !== 'required');
    const keysB = constraintKeys(b).filter((k) => k !== 'properties' && k !== 'required');
    if (isSchema(a.properties) !== isSchema(b.properties)) keysA.push('properties');
    if (!isDeepStrictEqual(a.type, b.type)) {
      return this.problem(field, 'changed', `changed type from ${describeSchema(a)} to ${describeSchema(b)}`);
    }
    for (const key of new Set([...keysA, ...keysB])) {
      const [va, vb] = [a[key], b[key]];
      if (va === undefined || vb === undefined) {
        const what =
          va === undefined
            ? `gained the constraint ${key} ${JSON.stringify(vb)}`
            : `lost the constraint ${key} ${JSON.stringify(va)}`;
        this.problem(
          field,
          'changed',
          key === 'properties' ? `changed from ${describeSchema(a)} to ${describeSchema(b)}` : what,
        );
      } else if (SUBSCHEMA_KEYWORDS.has(key) && isSchema(va) && isSchema(vb)) {
        this.compare(va, vb, field);
      } else if (SCHEMA_LIST_KEYWORDS.has(key) && Array.isArray(va) && Array.isArray(vb) && va.length === vb.length) {
        va.forEach((item, i) =>
          isSchema(item) && isSchema(vb[i]) ? this.compare(item, vb[i], field) : this.same(item, vb[i], key, field),
        );
      } else {
        this.same(va, vb, key, field);
      }
    }
  }

  private same(va: unknown, vb: unknown, key: string, field: string): void {
    if (!isDeepStrictEqual(va, vb))
      this.problem(
        field,
        'changed',
        `changed its constraint ${key} from ${JSON.stringify(va)} to ${JSON.stringify(vb)}`,
      );
  }

  private compareObjects(a: JsonSchema, b: JsonSchema, parent: string): void {
    const [propsA, propsB] = [a.properties as Record<string, JsonSchema>, b.properties as Record<string, JsonSchema>];
    const requiredA = new Set(Array.isArray(a.required) ? (a.required as string[]) : []);
    const requiredB = new Set(Array.isArray(b.required) ? (b.required as string[]) : []);
    const path = (name: string): string => (parent ? `${parent}.${name}` : name);
    const added = Object.keys(propsB).filter((name) => !(name in propsA));
    for (const name of Object.keys(propsA)) {
      if (name in propsB) continue;
      const was = `${describeSchema(propsA[name])}, ${requiredA.has(name) ? 'required' : 'optional'}`;
      const twin = added.find((n) => isDeepStrictEqual(unwrapOptional(propsA[name]), unwrapOptional(propsB[n])));
      const renamed = twin
        ? `; "${path(twin)}" appeared with the same schema: a rename is a removal plus an addition`
        : '';
      this.problem(path(name), 'removed', `was removed (it was ${was})${renamed}`);
    }
    for (const name of added) {
      if (requiredB.has(name)) {
        this.problem(
          path(name),
          'added-required',
          `was added as required (${describeSchema(propsB[name])}): older versions do not carry it; a new field must be optional (@IsOptional())`,
        );
      } else {
        this.out.added.push(path(name));
      }
    }
    for (const name of Object.keys(propsA)) {
      if (!(name in propsB)) continue;
      if (!requiredA.has(name) && requiredB.has(name))
        this.problem(path(name), 'now-required', 'became required: older versions may not carry it');
      if (requiredA.has(name) && !requiredB.has(name))
        this.problem(path(name), 'now-optional', 'became optional: readers of the older version rely on it');
      this.compare(unwrapOptional(propsA[name]), unwrapOptional(propsB[name]), path(name));
    }
  }

  private problem(field: string, change: Incompatibility['change'], detail: string): void {
    if (!this.out.problems.some((p) => p.field === field && p.detail === detail))
      this.out.problems.push({ field, change, detail });
  }
}
