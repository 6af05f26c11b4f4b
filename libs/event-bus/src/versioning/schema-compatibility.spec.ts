import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsArray, IsIn, IsInt, IsNumber, IsOptional, IsString, Min, ValidateNested } from 'class-validator';
import { payloadJsonSchema } from '../validation/payload-validator';
import { compareSchemas } from './schema-compatibility';
import { ParcelBooked, ParcelBookedV1 } from '../../test/fixtures/versioned-events';

// Plain class-validator classes: compareSchemas works on their JSON Schemas, no registry involved.
class Line {
  @IsString() sku!: string;
  @IsInt() @Min(1) quantity!: number;
}
class LineWithNote {
  @IsString() sku!: string;
  @IsInt() @Min(1) quantity!: number;
  @IsOptional() @IsString() note?: string;
}
class LineWithoutQuantity {
  @IsString() sku!: string;
}
class LineRetyped {
  @IsString() sku!: string;
  @IsString() quantity!: string;
}

class V1 {
  @IsString() orderId!: string;
  @IsNumber() @Min(0) total!: number;
  @IsOptional() @IsString() note?: string;
  @IsArray() @ValidateNested({ each: true }) @Type(() => Line) lines!: Line[];
}
class AddsOptional {
  @IsString() orderId!: string;
  @IsNumber() @Min(0) total!: number;
  @IsOptional() @IsString() note?: string;
  @IsArray() @ValidateNested({ each: true }) @Type(() => Line) lines!: Line[];
  @IsOptional() @IsString() discountCode?: string;
}
class RemovesTotal {
  @IsString() orderId!: string;
  @IsOptional() @IsString() note?: string;
  @IsArray() @ValidateNested({ each: true }) @Type(() => Line) lines!: Line[];
}
class RenamesTotal {
  @IsString() orderId!: string;
  @IsNumber() @Min(0) amount!: number;
  @IsOptional() @IsString() note?: string;
  @IsArray() @ValidateNested({ each: true }) @Type(() => Line) lines!: Line[];
}
class RetypesTotal {
  @IsString() orderId!: string;
  @IsString() total!: string;
  @IsOptional() @IsString() note?: string;
  @IsArray() @ValidateNested({ each: true }) @Type(() => Line) lines!: Line[];
}
class NoteRequired {
  @IsString() orderId!: string;
  @IsNumber() @Min(0) total!: number;
  @IsString() note!: string;
  @IsArray() @ValidateNested({ each: true }) @Type(() => Line) lines!: Line[];
}
class TotalOptional {
  @IsString() orderId!: string;
  @IsOptional() @IsNumber() @Min(0) total?: number;
  @IsOptional() @IsString() note?: string;
  @IsArray() @ValidateNested({ each: true }) @Type(() => Line) lines!: Line[];
}
class AddsRequired {
  @IsString() orderId!: string;
  @IsNumber() @Min(0) total!: number;
  @IsOptional() @IsString() note?: string;
  @IsArray() @ValidateNested({ each: true }) @Type(() => Line) lines!: Line[];
  @IsIn(['web', 'shop']) channel!: string;
}
class TightensTotal {
  @IsString() orderId!: string;
  @IsNumber() @Min(1) total!: number;
  @IsOptional() @IsString() note?: string;
  @IsArray() @ValidateNested({ each: true }) @Type(() => Line) lines!: Line[];
}
class NestedAddsOptional {
  @IsString() orderId!: string;
  @IsNumber() @Min(0) total!: number;
  @IsOptional() @IsString() note?: string;
  @IsArray() @ValidateNested({ each: true }) @Type(() => LineWithNote) lines!: LineWithNote[];
}
class NestedRemoves {
  @IsString() orderId!: string;
  @IsNumber() @Min(0) total!: number;
  @IsOptional() @IsString() note?: string;
  @IsArray() @ValidateNested({ each: true }) @Type(() => LineWithoutQuantity) lines!: LineWithoutQuantity[];
}
class NestedRetypes {
  @IsString() orderId!: string;
  @IsNumber() @Min(0) total!: number;
  @IsOptional() @IsString() note?: string;
  @IsArray() @ValidateNested({ each: true }) @Type(() => LineRetyped) lines!: LineRetyped[];
}

const compare = (older: new () => object, newer: new () => object) =>
  compareSchemas(payloadJsonSchema(older), payloadJsonSchema(newer));

describe('compareSchemas (consecutive versions of a payload)', () => {
  it('passes an added optional field and names it', () => {
    expect(compare(V1, AddsOptional)).toEqual({ problems: [], added: ['discountCode'] });
  });

  it('passes an unchanged schema, and a registered contract ParcelBooked v1 -> v2 (adds insuranceCode)', () => {
    expect(compare(V1, V1)).toEqual({ problems: [], added: [] });
    expect(compare(ParcelBookedV1, ParcelBooked)).toEqual({ problems: [], added: ['insuranceCode'] });
  });

  it('fails a removed field, naming it and what it was', () => {
    const { problems } = compare(V1, RemovesTotal);
    expect(problems).toEqual([{ field: 'total', change: 'removed', detail: 'was removed (it was number, required)' }]);
  });

  it('fails a renamed field as a removal, pointing at the new name', () => {
    const { problems, added } = compare(V1, RenamesTotal);
    expect(problems).toEqual([
      expect.objectContaining({
        field: 'total',
        change: 'removed',
        detail: expect.stringContaining('"amount" appeared with the same schema'),
      }),
      expect.objectContaining({ field: 'amount', change: 'added-required' }),
    ]);
    expect(added).toEqual([]);
  });

  it('fails a retyped field with both types', () => {
    expect(compare(V1, RetypesTotal).problems).toEqual([
      { field: 'total', change: 'changed', detail: 'changed type from number to string' },
    ]);
  });

  it('fails a field that became required, and one that became optional', () => {
    expect(compare(V1, NoteRequired).problems).toEqual([
      expect.objectContaining({ field: 'note', change: 'now-required' }),
    ]);
    expect(compare(V1, TotalOptional).problems).toEqual([
      expect.objectContaining({ field: 'total', change: 'now-optional' }),
    ]);
  });

  it('fails a new required field: older versions do not carry it', () => {
    expect(compare(V1, AddsRequired).problems).toEqual([
      { field: 'channel', change: 'added-required', detail: expect.stringContaining('a new field must be optional') },
    ]);
  });

  it('fails a changed constraint (old entries could stop validating)', () => {
    expect(compare(V1, TightensTotal).problems).toEqual([
      { field: 'total', change: 'changed', detail: 'changed its constraint minimum from 0 to 1' },
    ]);
  });

  it('compares nested classes field by field: an added optional field passes, a removed or retyped one fails with its path', () => {
    expect(compare(V1, NestedAddsOptional)).toEqual({ problems: [], added: ['lines.note'] });
    expect(compare(V1, NestedRemoves).problems).toEqual([
      expect.objectContaining({ field: 'lines.quantity', change: 'removed' }),
    ]);
    expect(compare(V1, NestedRetypes).problems).toEqual([
      { field: 'lines.quantity', change: 'changed', detail: 'changed type from integer to string' },
    ]);
  });

  it('compares in one direction only: going back from a newer version is a removal', () => {
    expect(compare(AddsOptional, V1).problems).toEqual([
      expect.objectContaining({ field: 'discountCode', change: 'removed' }),
    ]);
  });
});
