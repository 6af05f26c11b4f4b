import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');
const run = (script: string, args: string[] = [], env: Record<string, string> = {}) =>
  spawnSync(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', script, ...args],
    {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, ...env },
    },
  );

/** `npm run contracts:check` and `npm run catalogue` as CI and an author run them. */
describe('contracts scripts', () => {
  it('contracts:check passes on the real contracts, one OK line per type and version step', () => {
    const result = run('scripts/contracts-check.ts');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('OK    OrderPlaced v1 -> v2 (adds optional discountCode)');
    expect(result.stdout).toContain('OK    PaymentSucceeded v1');
    expect(result.stdout).toMatch(/contracts compatible: \d+ event types, \d+ versions/);
  });

  it('contracts:check fails on a breaking version, naming type, versions and field and asking for a new type', () => {
    const result = run('scripts/contracts-check.ts', ['test/fixtures/breaking-contracts.fixture.ts']);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('OK    OrderPlaced v1 -> v2');
    expect(result.stderr).toContain(
      'FAIL  OrderPlaced v2 -> v3: field "currency" was removed (it was string, required); "currencyCode" appeared with the same schema',
    );
    expect(result.stderr).toContain('FAIL  OrderPlaced v2 -> v3: field "currencyCode" was added as required');
    expect(result.stderr).toContain('FAIL  OrderPlaced v2 has no upcaster towards v3');
    expect(result.stderr).toContain('is a new event type (docs/contract.md section 5)');
    // The same fixture through the environment variable.
    expect(
      run('scripts/contracts-check.ts', [], { CONTRACTS_CHECK_EXTRA: 'test/fixtures/breaking-contracts.fixture.ts' })
        .status,
    ).toBe(1);
  });

  it('catalogue writes the Markdown catalogue and the AsyncAPI document, and --check tells a stale one', () => {
    const out = mkdtempSync(join(tmpdir(), 'catalogue-'));
    try {
      const written = run('scripts/catalogue.ts', ['--out', out]);
      expect(written.status).toBe(0);
      const markdown = readFileSync(join(out, 'event-catalogue.md'), 'utf8');
      expect(markdown).toContain('#### OrderPlaced v2');
      expect(markdown).toContain('| `discountCode` (new in this version) | string | no (null or absent) |');
      expect(markdown).toContain('| v1 | `OrderPlacedV1` | order-service | upcast to v2 by `OrderPlacedV1ToV2` |');
      expect(markdown).toContain('  - `inventory` (inventory-service): ReservationHandler.onOrderPlaced');
      const asyncapi = JSON.parse(readFileSync(join(out, 'asyncapi.json'), 'utf8'));
      expect(asyncapi.asyncapi).toBe('3.0.0');
      expect(Object.keys(asyncapi.components.messages)).toEqual(
        expect.arrayContaining(['OrderPlaced.v1', 'OrderPlaced.v2']),
      );

      expect(run('scripts/catalogue.ts', ['--out', out, '--check']).status).toBe(0);
      rmSync(join(out, 'asyncapi.json'));
      const stale = run('scripts/catalogue.ts', ['--out', out, '--check']);
      expect(stale.status).toBe(1);
      expect(stale.stdout).toMatch(/STALE .*asyncapi\.json/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
