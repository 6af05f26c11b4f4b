import 'reflect-metadata';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayNotEmpty,
  Equals,
  IsArray,
  IsBoolean,
  IsDateString,
  IsDefined,
  IsEmail,
  IsEnum,
  IsIn,
  IsInt,
  IsISO8601,
  IsNegative,
  IsNotEmpty,
  IsNumber,
  IsObject,
  IsOptional,
  IsPositive,
  IsString,
  IsUrl,
  IsUUID,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  Validate,
  ValidateIf,
  ValidateNested,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';
import {
  classValidatorValidate,
  createPayloadValidator,
  payloadJsonSchema,
  type PayloadClass,
  type ValidationResult,
} from './payload-validator';

enum Channel {
  Web = 'web',
  App = 'app',
  Pos = 'pos',
}
enum Priority {
  Low,
  High,
}

class OrderItem {
  @IsString() @IsNotEmpty() sku!: string;
  @IsString() @MaxLength(10) name!: string;
  @IsNumber() @Min(0) unitPrice!: number;
  @IsInt() @Min(1) quantity!: number;
}
class Address {
  @IsString() @IsNotEmpty() street!: string;
  @Matches(/^\d{5}$/) zip!: string;
}
class OrderPlaced {
  @IsUUID('4') orderId!: string;
  @IsString() @Length(3, 20) userId!: string;
  @IsEmail() userEmail!: string;
  @IsArray() @ArrayMinSize(1) @ValidateNested({ each: true }) @Type(() => OrderItem) items!: OrderItem[];
  @IsNumber() total!: number;
  @IsISO8601() placedAt!: string;
  @IsOptional() @IsString() discountCode?: string;
  @IsIn(['EUR', 'USD', 'GBP']) currency!: string;
  @IsEnum(Channel) channel!: Channel;
  @IsBoolean() giftWrap!: boolean;
  @Matches(/^[A-Z]{2}-\d{4}$/) warehouse!: string;
  @IsOptional() @ValidateNested() @Type(() => Address) shipping?: Address;
  @IsOptional() @IsString({ each: true }) @ArrayMaxSize(3) tags?: string[];
}
class OrderPlacedV2 extends OrderPlaced {
  @IsOptional() @IsString() @MaxLength(8) coupon?: string;
}
class Money {
  @IsInt() @IsPositive() amount!: number;
  @IsIn(['EUR', 'USD']) currency!: string;
}
class Category {
  @IsString() @MinLength(1) name!: string;
  @IsOptional() @ValidateNested({ each: true }) @Type(() => Category) children?: Category[];
}
class KitchenSink {
  @IsDefined() anything!: unknown;
  @Equals('v1') schema!: string;
  @IsEnum(Priority) priority!: Priority;
  @ArrayNotEmpty() @IsString({ each: true }) labels!: string[];
  @IsObject() meta!: object;
  @IsDateString() due!: string;
  @IsUrl() link!: string;
  @IsOptional() @IsUUID() ref?: string;
  @ValidateNested() @Type(() => Money) price?: Money; // no @IsDefined: class-validator lets it be absent
  @ValidateNested() @Type(() => Category) category!: Category;
  @IsNumber() @Max(0) @Min(-100) @IsNegative() delta!: number;
  @IsOptional() @IsNotEmpty() note?: unknown;
  @MinLength(2) @MaxLength(4) code!: string;
}

const UUID4 = '9b2f1c3e-8a4d-4f6b-9c2e-1a2b3c4d5e6f';
const ORDER = {
  orderId: UUID4,
  userId: 'user-1',
  userEmail: 'ada@example.com',
  items: [
    { sku: 'SKU-1', name: 'Lamp', unitPrice: 19.99, quantity: 2 },
    { sku: 'SKU-2', name: 'Bulb', unitPrice: 0, quantity: 1 },
  ],
  total: 39.98,
  placedAt: '2024-05-01T10:00:00.000Z',
  discountCode: 'SPRING',
  currency: 'EUR',
  channel: 'web',
  giftWrap: false,
  warehouse: 'DE-0042',
  shipping: { street: 'Main St 1', zip: '10115' },
  tags: ['gift'],
};
const SINK = {
  anything: 0,
  schema: 'v1',
  priority: 1,
  labels: ['a'],
  meta: {},
  due: '2024-05-01',
  link: 'https://example.com/x',
  ref: UUID4,
  price: { amount: 5, currency: 'USD' },
  category: { name: 'root', children: [{ name: 'leaf' }] },
  delta: -5,
  note: 'n',
  code: 'abc',
};
/** Values that hit type checks, bounds, formats and validator.js corner cases (variation selectors, urn:uuid). */
const POOL: unknown[] = [
  null,
  0,
  1,
  -1,
  1.5,
  2,
  -0.01,
  1e21,
  -101,
  '',
  ' ',
  'x',
  'abc',
  'AB-1234',
  'web',
  'EUR',
  'v1',
  'High',
  'ada@example.com',
  'not-an-email',
  '2024-02-30',
  '2024-05-01T10:00',
  '2024-W01',
  UUID4,
  `urn:uuid:${UUID4}`,
  'c232ab00-9414-11ec-b3c8-9f6bdeced846',
  'abcdefghi\u2764\uFE0F',
  'ab\u2764\uFE0F',
  '\u{1F600}\u{1F600}',
  '12345',
  'x'.repeat(21),
  'https://example.com',
  true,
  false,
  [],
  [1],
  ['a'],
  ['a', 'b', 'c', 'd'],
  [{}],
  [[]],
  [null],
  {},
  { sku: 'A' },
  { name: 'n', children: [{}] },
];

function mulberry32(seed: number): (n: number) => number {
  return (n) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}
type Path = (string | number)[];
function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const p = [...prefix, Array.isArray(value) ? Number(k) : k];
    return [p, ...pathsOf(v, p)];
  });
}
function mutated(base: object, path: Path, op: 'delete' | { set: unknown }): object {
  const copy = structuredClone(base);
  let parent: Record<string | number, unknown> = copy as Record<string, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (op !== 'delete') parent[last] = structuredClone(op.set);
  else if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else delete parent[last];
  return copy;
}
/** Single-field mutations of every path with every pool value, then seeded random multi-mutations. */
function cases(base: object, seed: number, randomCount: number): unknown[] {
  const out: unknown[] = [base, null, [], [base], 'payload', 42, true, { ...base, extra: 1, nested: { x: [1] } }];
  for (const path of pathsOf(base)) {
    out.push(mutated(base, path, 'delete'));
    for (const value of POOL) out.push(mutated(base, path, { set: value }));
  }
  const rnd = mulberry32(seed);
  for (let i = 0; i < randomCount; i++) {
    let doc = base;
    for (let n = 1 + rnd(4); n > 0; n--) {
      const paths = pathsOf(doc);
      const path = paths.length && rnd(6) ? paths[rnd(paths.length)] : [`extra${rnd(3)}`];
      doc = mutated(doc, path, rnd(5) === 0 ? 'delete' : { set: POOL[rnd(POOL.length)] });
    }
    out.push(doc);
  }
  return out;
}
const fieldsOf = (r: ValidationResult<unknown>): string[] =>
  r.ok ? [] : [...new Set(r.errors.map((e) => e.field))].sort();

describe('payload validator', () => {
  it.each([
    ['OrderPlaced', OrderPlaced, ORDER, 1],
    ['OrderPlacedV2 (inherited decorators)', OrderPlacedV2, { ...ORDER, coupon: 'C1' }, 2],
    ['KitchenSink (formats, each, recursion, IsDefined, Equals, enums)', KitchenSink, SINK, 3],
  ] as [string, PayloadClass, object, number][])(
    '%s: compiled and class-validator paths agree',
    (_name, cls, base, seed) => {
      const validator = createPayloadValidator(cls);
      expect(validator.fallbackReason).toBeUndefined();
      expect(validator.compiled).toBe(true);
      const inputs = cases(base, seed, 400);
      expect(inputs.length).toBeGreaterThan(1000);
      const mismatches: unknown[] = [];
      let invalid = 0;
      for (const input of inputs) {
        const fast = validator.validate(input);
        const reference = classValidatorValidate(cls, input);
        if (!fast.ok) invalid++;
        if (fast.ok !== reference.ok || fieldsOf(fast).join() !== fieldsOf(reference).join())
          mismatches.push({ input, fast: fieldsOf(fast), reference: fieldsOf(reference) });
        if (fast.ok) expect(fast.value).toBe(input);
        if (reference.ok) expect(reference.value).toBeInstanceOf(cls);
      }
      expect(mismatches.slice(0, 5)).toEqual([]);
      expect(invalid).toBeGreaterThan(inputs.length / 2); // the generator really does break things
    },
  );

  it('reports readable, field-named errors on the compiled path', () => {
    const bad = {
      ...ORDER,
      userEmail: 'nope',
      items: [{ sku: 'A', name: 'n', unitPrice: 1, quantity: 1.5 }],
      total: undefined,
    };
    const result = createPayloadValidator(OrderPlaced).validate(bad);
    expect(result).toEqual({
      ok: false,
      errors: expect.arrayContaining([
        { field: 'userEmail', messages: ['userEmail must be an email'] },
        { field: 'items.0.quantity', messages: ['quantity must be an integer'] },
        { field: 'total', messages: ['total is required'] },
      ]),
    });
  });

  it('rejects non-object payloads with one root error, on both paths', () => {
    for (const data of [null, undefined, [], [ORDER], 'x', 1, true]) {
      expect(createPayloadValidator(OrderPlaced).validate(data)).toEqual({
        ok: false,
        errors: [{ field: '', messages: ['payload must be a JSON object'] }],
      });
      expect(classValidatorValidate(OrderPlaced, data)).toEqual({
        ok: false,
        errors: [{ field: '', messages: ['payload must be a JSON object'] }],
      });
    }
  });

  it('allows unknown properties and absent / null optional fields', () => {
    const { discountCode: _d, shipping: _s, ...rest } = ORDER;
    for (const data of [
      { ...rest, newerField: { any: 'thing' } },
      { ...ORDER, discountCode: null, shipping: null, tags: undefined },
    ]) {
      expect(createPayloadValidator(OrderPlaced).validate(data).ok).toBe(true);
      expect(classValidatorValidate(OrderPlaced, data).ok).toBe(true);
    }
  });

  it('compiles once per class and reuses the validator', () => {
    expect(createPayloadValidator(OrderPlaced)).toBe(createPayloadValidator(OrderPlaced));
    expect(createPayloadValidator(OrderPlacedV2)).not.toBe(createPayloadValidator(OrderPlaced));
  });

  describe('falls back to class-validator when decorators cannot be compiled faithfully', () => {
    @ValidatorConstraint({ name: 'isEven' })
    class IsEven implements ValidatorConstraintInterface {
      validate = (value: unknown) => typeof value === 'number' && value % 2 === 0;
      defaultMessage = () => 'quantity must be even';
    }
    class EvenBox {
      @IsInt() @Validate(IsEven) quantity!: number;
    }
    class Shipment {
      @IsIn(['pickup', 'delivery']) mode!: string;
      @ValidateIf((o: Shipment) => o.mode === 'delivery') @IsString() @IsNotEmpty() address?: string;
    }
    class HoldsCustom {
      @ValidateNested() @Type(() => EvenBox) box!: EvenBox;
    }
    class Transformed {
      @Transform(({ value }) => String(value).trim()) @IsNotEmpty() name!: string;
    }
    class WithDefault {
      @IsInt() retries = 3;
    }

    it.each([
      ['@Validate(custom constraint)', EvenBox, { quantity: 4 }, { quantity: 3 }, 'quantity'],
      ['@ValidateIf', Shipment, { mode: 'pickup' }, { mode: 'delivery', address: '' }, 'address'],
      [
        'a nested class with a custom constraint',
        HoldsCustom,
        { box: { quantity: 2 } },
        { box: { quantity: 1 } },
        'box.quantity',
      ],
      ['@Transform', Transformed, { name: ' a ' }, { name: '' }, 'name'],
      ['a field initializer', WithDefault, {}, { retries: 'x' }, 'retries'],
    ] as [string, PayloadClass, object, object, string][])('%s', (_name, cls, good, bad, field) => {
      const validator = createPayloadValidator(cls);
      expect(validator.compiled).toBe(false);
      expect(validator.fallbackReason).toEqual(expect.any(String));
      const ok = validator.validate(good);
      expect(ok.ok && ok.value).toBeInstanceOf(cls);
      const ko = validator.validate(bad);
      expect(ko.ok).toBe(false);
      expect(fieldsOf(ko)).toEqual([field]);
      expect(payloadJsonSchema(cls)).toMatchObject({
        title: cls.name,
        $comment: expect.stringContaining('class-validator'),
      });
    });

    it('keeps the messages of custom constraints', () => {
      expect(createPayloadValidator(EvenBox).validate({ quantity: 3 })).toEqual({
        ok: false,
        errors: [{ field: 'quantity', messages: ['quantity must be even'] }],
      });
    });
  });

  it('exposes the JSON Schema the compiled path uses', () => {
    const schema = payloadJsonSchema(OrderPlaced) as {
      required: string[];
      properties: Record<string, object>;
      definitions: Record<string, { required?: string[] }>;
    };
    expect(schema.required).toEqual(expect.arrayContaining(['orderId', 'items', 'placedAt']));
    expect(schema.required).not.toContain('discountCode');
    expect(schema.properties.userEmail).toEqual({ type: 'string', format: 'email' });
    expect(schema.properties.items).toMatchObject({ type: 'array', minItems: 1 });
    expect(schema.definitions.OrderItem.required).toEqual(['sku', 'name', 'unitPrice', 'quantity']);
    expect(payloadJsonSchema(OrderPlaced)).not.toBe(payloadJsonSchema(OrderPlaced));
  });
});
