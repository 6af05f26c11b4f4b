import 'reflect-metadata';
import { IsIn, IsNumber, IsOptional, IsString, Min } from 'class-validator';
import { EventContract } from '../decorators/event-contract.decorator';
import { ContractViolationError } from '../errors/contract-violation.error';
import { createPayloadValidator } from '../validation/payload-validator';
import { upcastToNewest } from './upcast';
import { Upcaster } from './upcaster.decorator';
import { type EventUpcaster, upcasterRegistry } from './upcaster-registry';

// A test-only type with three versions: v2 adds `unit` (grams assumed before), v3 adds `carrier`.
@EventContract({ type: 'UpcastSpecParcelWeighed', version: 1, stream: 'upcast-spec' })
class ParcelWeighedV1 {
  @IsString() parcelId!: string;
  @IsNumber() @Min(0) weight!: number;
}
@EventContract({ type: 'UpcastSpecParcelWeighed', version: 2, stream: 'upcast-spec' })
class ParcelWeighedV2 {
  @IsString() parcelId!: string;
  @IsNumber() @Min(0) weight!: number;
  @IsOptional() @IsIn(['g', 'kg']) unit?: 'g' | 'kg' | null;
}
@EventContract({ type: 'UpcastSpecParcelWeighed', version: 3, stream: 'upcast-spec' })
class ParcelWeighed {
  @IsString() parcelId!: string;
  @IsNumber() @Min(0) weight!: number;
  @IsOptional() @IsIn(['g', 'kg']) unit?: 'g' | 'kg' | null;
  @IsOptional() @IsString() carrier?: string | null;
}

const calls: string[] = [];

@Upcaster(ParcelWeighedV1, ParcelWeighedV2)
class ParcelWeighedV1ToV2 implements EventUpcaster<ParcelWeighedV1, ParcelWeighedV2> {
  upcast(v1: ParcelWeighedV1): ParcelWeighedV2 {
    calls.push('1->2');
    return { ...v1, unit: 'g' };
  }
}
@Upcaster(ParcelWeighedV2, ParcelWeighed)
class ParcelWeighedV2ToV3 implements EventUpcaster<ParcelWeighedV2, ParcelWeighed> {
  upcast(v2: ParcelWeighedV2): ParcelWeighed {
    calls.push('2->3');
    // NOTE: mutates its input on purpose: the caller's data must not change.
    const v3 = v2 as ParcelWeighed;
    v3.carrier = null;
    return v3;
  }
}

// A type whose chain has a gap: v1 -> v2 is missing.
@EventContract({ type: 'UpcastSpecGap', version: 1, stream: 'upcast-spec' })
export class GapV1 {
  @IsString() id!: string;
}
@EventContract({ type: 'UpcastSpecGap', version: 2, stream: 'upcast-spec' })
class GapV2 {
  @IsString() id!: string;
  @IsOptional() @IsString() a?: string;
}
@EventContract({ type: 'UpcastSpecGap', version: 3, stream: 'upcast-spec' })
class GapV3 {
  @IsString() id!: string;
  @IsOptional() @IsString() a?: string;
  @IsOptional() @IsString() b?: string;
}
@Upcaster(GapV2, GapV3)
export class GapV2ToV3 implements EventUpcaster<GapV2, GapV3> {
  upcast(v2: GapV2): GapV3 {
    return v2;
  }
}

describe('upcasting', () => {
  beforeEach(() => (calls.length = 0));

  it('registers each @Upcaster with its type and versions', () => {
    expect(upcasterRegistry.all().filter((u) => u.type === 'UpcastSpecParcelWeighed')).toEqual([
      expect.objectContaining({ from: 1, to: 2, name: ParcelWeighedV1ToV2.name }),
      expect.objectContaining({ from: 2, to: 3, name: ParcelWeighedV2ToV3.name }),
    ]);
  });

  it('upcasts a v1 payload step by step to the newest version (v1 -> v2 -> v3), which validates against it', () => {
    const wire = { parcelId: 'P-1', weight: 1200 };
    const result = upcastToNewest('UpcastSpecParcelWeighed', 1, wire);
    expect(result).toEqual({ ok: true, value: { parcelId: 'P-1', weight: 1200, unit: 'g', carrier: null } });
    expect(calls).toEqual(['1->2', '2->3']);
    expect(wire).toEqual({ parcelId: 'P-1', weight: 1200 }); // the wire data is untouched
    expect(createPayloadValidator(ParcelWeighed).validate((result as { value: object }).value).ok).toBe(true);
  });

  it('starts the chain at the wire version, and leaves the newest version alone', () => {
    expect(upcastToNewest('UpcastSpecParcelWeighed', 2, { parcelId: 'P-2', weight: 3, unit: 'kg' })).toEqual({
      ok: true,
      value: { parcelId: 'P-2', weight: 3, unit: 'kg', carrier: null },
    });
    expect(calls).toEqual(['2->3']);
    const newest = { parcelId: 'P-3', weight: 1, carrier: 'DHL' };
    expect(upcastToNewest('UpcastSpecParcelWeighed', 3, newest)).toEqual({ ok: true, value: newest });
    expect(calls).toEqual(['2->3']);
  });

  it('fails with no-upcaster when a step of the chain is missing, saying which one to declare', () => {
    const result = upcastToNewest('UpcastSpecGap', 1, { id: 'x' });
    expect(result.ok).toBe(false);
    const { error } = result as { error: ContractViolationError };
    expect(error.reason).toBe('no-upcaster');
    expect(error.message).toBe(
      'UpcastSpecGap v1 cannot be upcast to v3: no upcaster from v1; declare @Upcaster(GapV1, GapV2) on a class with upcast(payload), then redrive the dead letters',
    );
    expect(upcastToNewest('UpcastSpecGap', 2, { id: 'x' })).toEqual({ ok: true, value: { id: 'x' } });
  });

  it('fails with unknown-version for a version no contract declares', () => {
    const result = upcastToNewest('UpcastSpecParcelWeighed', 9, { parcelId: 'P', weight: 1 }) as {
      ok: false;
      error: ContractViolationError;
    };
    expect(result.error.reason).toBe('unknown-version');
    expect(result.error.message).toContain(
      'UpcastSpecParcelWeighed has no contract for version 9 (this service knows v1, v2, v3)',
    );
  });

  it('fails with upcast-failed when an upcaster throws or returns no object', () => {
    const original = upcasterRegistry.find('UpcastSpecGap', 2)!;
    try {
      upcasterRegistry.register({
        ...original,
        upcast: () => {
          throw new Error('boom');
        },
      });
      const thrown = upcastToNewest('UpcastSpecGap', 2, { id: 'x' }) as { ok: false; error: ContractViolationError };
      expect([thrown.error.reason, thrown.error.message]).toEqual([
        'upcast-failed',
        'UpcastSpecGap: upcaster GapV2ToV3 (v2 -> v3) failed: boom',
      ]);
      upcasterRegistry.register({ ...original, upcast: () => [] as unknown as object });
      const notObject = upcastToNewest('UpcastSpecGap', 2, { id: 'x' }) as { ok: false; error: ContractViolationError };
      expect(notObject.error.message).toContain('it did not return an object');
    } finally {
      upcasterRegistry.register(original);
    }
  });

  it('refuses upcasters across types, backwards, from a non-contract, or a second one from the same version', () => {
    class NotAContract {}
    const declare = (from: new () => object, to: new () => object) => () => {
      @Upcaster(from, to)
      class Bad implements EventUpcaster {
        upcast(p: object): object {
          return p;
        }
      }
      return Bad;
    };
    expect(declare(ParcelWeighedV1, GapV2)).toThrow(
      '@Upcaster(ParcelWeighedV1, GapV2) on Bad: ParcelWeighedV1 is UpcastSpecParcelWeighed but GapV2 is UpcastSpecGap',
    );
    expect(declare(ParcelWeighedV2, ParcelWeighedV1)).toThrow(
      'it must go from an older version to a newer one (v2 -> v1)',
    );
    expect(declare(NotAContract, ParcelWeighed)).toThrow('NotAContract is not an event contract');
    expect(declare(ParcelWeighedV1, ParcelWeighed)).toThrow(
      'two upcasters of UpcastSpecParcelWeighed start at v1 (ParcelWeighedV1ToV2 and Bad): each version has at most one upcaster to a newer one',
    );
  });
});
