import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { RedisServer } from '../../../test/support/redis-server';

/**
 * The libraries as packages: `npm pack` of libs/event-bus and libs/event-store (their `prepack`
 * builds dist/), both tarballs installed into a copy of test/package-app outside the repository
 * with everything else from the registry (no prom-client, no OpenTelemetry; @nestjs/microservices for
 * the /transport subpath), the app type-checked with `strict` and `skipLibCheck: false`, then run
 * against a redis-server of its own.
 */

const exec = promisify(execFile);
const LIBS = resolve(__dirname, '../..');
const FIXTURE = join(__dirname, 'package-app');
const OPTIONAL_PEERS = ['prom-client', '@opentelemetry/api'];

interface Packed {
  filename: string;
  files: Array<{ path: string }>;
}

/** The environment of a child npm / node: none of the npm settings of the run that started jest. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key) && !['NODE_OPTIONS', 'NODE_PATH', 'INIT_CWD'].includes(key)) env[key] = value;
  }
  return { ...env, ...extra };
}

async function run(command: string, args: string[], cwd: string, env = childEnv()): Promise<string> {
  try {
    const { stdout } = await exec(command, args, { cwd, env, maxBuffer: 32 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
}

/** `npm pack` of one library into `destination` (prepack builds its dist/). */
async function pack(lib: string, destination: string): Promise<Packed> {
  const [packed] = JSON.parse(
    await run('npm', ['pack', '--json', '--pack-destination', destination], join(LIBS, lib)),
  ) as Packed[];
  return packed;
}

function declarationFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.d.ts'))
    .map((file) => join(dir, file));
}

describe('the libraries as installed packages', () => {
  const builtBefore = {
    'event-bus': existsSync(join(LIBS, 'event-bus/dist')),
    'event-store': existsSync(join(LIBS, 'event-store/dist')),
  };
  let workDir: string;
  let appDir: string;
  let bus: Packed;
  let store: Packed;
  let redis: RedisServer | undefined;

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'nest-streams-package-'));
    appDir = join(workDir, 'app');
    [bus, store, redis] = await Promise.all([
      pack('event-bus', workDir),
      pack('event-store', workDir),
      RedisServer.start(),
    ]);
    cpSync(FIXTURE, appDir, { recursive: true, filter: (source) => !/[\\/](node_modules|dist)$/.test(source) });
    const manifest = JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    manifest.dependencies['@nest-streams/event-bus'] = `file:../${bus.filename}`;
    manifest.dependencies['@nest-streams/event-store'] = `file:../${store.filename}`;
    writeFileSync(join(appDir, 'package.json'), JSON.stringify(manifest, null, 2));
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], appDir);
  }, 120_000);

  afterAll(async () => {
    await redis?.destroy();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
    // NOTE: a dist/ the packing built is removed; one that was there before is left as it was rebuilt.
    for (const [lib, built] of Object.entries(builtBefore))
      if (!built) rmSync(join(LIBS, lib, 'dist'), { recursive: true, force: true });
  });

  it('packs compiled JavaScript with declarations, and neither sources nor specs', () => {
    for (const packed of [bus, store]) {
      const paths = packed.files.map((f) => f.path);
      expect(paths).toEqual(expect.arrayContaining(['package.json', 'dist/index.js', 'dist/index.d.ts']));
      expect(paths.filter((p) => !p.startsWith('dist/') && !/^(package\.json|README\.md|LICENSE)$/i.test(p))).toEqual(
        [],
      );
      expect(paths.filter((p) => /\.spec\.|(^|\/)test\//.test(p))).toEqual([]);
    }
    expect(bus.files.map((f) => f.path)).toEqual(expect.arrayContaining(['dist/catalogue.js', 'dist/catalogue.d.ts']));
  });

  it('installs without prom-client or @opentelemetry/api, and no declaration refers to them', async () => {
    const resolvable = `for (const name of ${JSON.stringify(OPTIONAL_PEERS)}) { try { require.resolve(name); console.log(name); } catch {} }`;
    expect((await run('node', ['-e', resolvable], appDir)).trim()).toBe('');
    const installed = join(appDir, 'node_modules/@nest-streams/event-bus/dist');
    const mentions = declarationFiles(installed).filter((file) =>
      /['"](prom-client|@opentelemetry\/api)['"]/.test(readFileSync(file, 'utf8')),
    );
    expect(mentions).toEqual([]);
  });

  it('type-checks the app with strict and skipLibCheck: false', async () => {
    await run(join(appDir, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], appDir);
    expect(existsSync(join(appDir, 'dist/main.js'))).toBe(true);
  }, 60_000);

  it('publishes a valid event to a @Subscribe handler, refuses an invalid one, and appends to and reads the event store', async () => {
    const out = await run(
      'node',
      ['dist/main.js'],
      appDir,
      childEnv({ REDIS_URL: redis!.url, EVENT_BUS_NAMESPACE: 'package-app' }),
    );
    const result = JSON.parse(out.trim().split('\n').pop()!) as {
      published: { stream: string; type: string; id: string };
      received: Array<{ orderId: string; quantity: number; group: string }>;
      refused?: { eventType: string; fields: string[]; message: string };
      eventStore: { version: number; read: Array<{ type: string; version: number; owner: string }> };
    };
    expect(result.published).toMatchObject({ stream: 'orders', type: 'OrderPlaced' });
    expect(result.received).toEqual([{ orderId: 'order-1', quantity: 2, group: 'shipping' }]);
    expect(result.refused).toMatchObject({ eventType: 'OrderPlaced', fields: ['quantity'] });
    expect(result.refused!.message).toContain('quantity');
    expect(result.eventStore).toEqual({ version: 1, read: [{ type: 'AccountOpened', version: 1, owner: 'ada' }] });
  }, 30_000);

  it('runs a Nest microservice on the /transport subpath: an emitted event is handled, a request answered', async () => {
    const out = await run(
      'node',
      ['dist/transport.js'],
      appDir,
      childEnv({ REDIS_URL: redis!.url, EVENT_BUS_NAMESPACE: 'package-app' }),
    );
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({
      emitted: { stream: 'note.taken' },
      received: [{ note: 'hello', stream: 'note.taken', group: 'notes' }],
      sum: 6,
    });
  }, 30_000);

  it('exports the contract tooling at /catalogue, and no deep import', async () => {
    expect(JSON.parse(await run('node', ['dist/catalogue.js'], appDir))).toEqual(['OrderPlaced@1 on orders']);
    await expect(
      run('node', ['-e', "require('@nest-streams/event-bus/dist/observability/metrics')"], appDir),
    ).rejects.toThrow(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
  });
});
