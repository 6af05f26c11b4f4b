import 'reflect-metadata';
import { IsNumber, IsOptional, IsString } from 'class-validator';
import { Test } from '@nestjs/testing';
import { EventBusModule } from '../event-bus.module';
import { EventContract } from '../decorators/event-contract.decorator';
import { IncompatibleContractsError } from '../errors/incompatible-contracts.error';
import { checkContractCompatibility, describeProblems } from './contract-compatibility';
import { ContractCompatibilityCheck } from './contract-compatibility.check';
import '../../test/fixtures/fixture-events';
import '../../test/fixtures/versioned-events';

describe('contract compatibility across the registry', () => {
  it('finds the fixture contracts compatible, with every older version upcast', () => {
    const report = checkContractCompatibility();
    expect(report.ok).toBe(true);
    expect(report.missingUpcasters).toEqual([]);
    const parcelBooked = report.steps.find((s) => s.type === 'ParcelBooked');
    expect(parcelBooked).toMatchObject({
      from: { meta: { version: 1 } },
      to: { meta: { version: 2 } },
      problems: [],
      added: ['insuranceCode'],
    });
  });

  it('lists every registered type with its versions, oldest first, and steps only between versions of one type', () => {
    const report = checkContractCompatibility();
    const versions = Object.fromEntries(report.types.map((t) => [t.type, t.versions.map((c) => c.meta.version)]));
    expect(versions).toEqual({ ParcelOrdered: [1], ParcelShipped: [1], ParcelWeighed: [1], ParcelBooked: [1, 2] });
    expect(report.steps.map((s) => s.type)).toEqual(['ParcelBooked']);
  });

  describe('with a breaking version registered', () => {
    // NOTE: declared in beforeAll: decorators register at declaration, and the test above must not see these.
    let names: string[] = [];
    beforeAll(() => {
      @EventContract({ type: 'CompatSpecShipped', version: 1, stream: 'compat-spec' })
      class ShippedV1 {
        @IsString() parcelId!: string;
        @IsNumber() weight!: number;
      }
      @EventContract({ type: 'CompatSpecShipped', version: 2, stream: 'compat-spec' })
      class Shipped {
        @IsString() parcelId!: string;
        @IsString() weight!: string;
        @IsOptional() @IsString() carrier?: string;
      }
      names = [ShippedV1.name, Shipped.name];
    });

    it('reports the type, the versions and the field, and a missing upcaster apart', () => {
      const report = checkContractCompatibility();
      expect(report.ok).toBe(false);
      expect(describeProblems(report)).toEqual([
        'CompatSpecShipped v1 -> v2: field "weight" changed type from number to string',
      ]);
      expect(report.missingUpcasters).toEqual([
        expect.objectContaining({
          type: 'CompatSpecShipped',
          from: 1,
          newest: 2,
          message: expect.stringContaining(`declare @Upcaster(${names[0]}, ${names[1]})`),
        }),
      ]);
    });

    it('stops the application at bootstrap, telling the author to introduce a new type', () => {
      const check = new ContractCompatibilityCheck();
      expect(() => check.onModuleInit()).toThrow(IncompatibleContractsError);
      expect(() => check.onModuleInit()).toThrow(
        /CompatSpecShipped v1 -> v2: field "weight" changed type from number to string[\s\S]*new event type[\s\S]*docs\/contract\.md section 5/,
      );
    });

    it('is what EventBusModule runs: the application does not start', async () => {
      // NOTE: lazy connection and consume: false: nothing talks to Redis here.
      const moduleRef = await Test.createTestingModule({
        imports: [EventBusModule.forRoot({ redis: 'redis://127.0.0.1:9', consume: false })],
      }).compile();
      const app = moduleRef.createNestApplication({ logger: false });
      await expect(app.init()).rejects.toThrow(
        'CompatSpecShipped v1 -> v2: field "weight" changed type from number to string',
      );
      await app.close();
    });
  });
});
