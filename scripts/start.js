#!/usr/bin/env node
'use strict';
/**
 * `npm start` / `npm run start:dev`: make sure a Redis answers, build the api, run it.
 *
 *   npm start                      build if needed (the api, then the console), run dist/.../main.js
 *   npm run start:dev              `nest start api --watch` instead of build + run, NODE_ENV=development
 *                                  unless set (so logs are pretty: LOG_FORMAT)
 *   npm start -- --some-flag            arguments not meant for this script go to the app
 *   node scripts/start.js --dev -- --demo
 *
 * Redis: REDIS_URL (default redis://127.0.0.1:6379) is PINGed. If nothing answers, the host is
 * local and `redis-server` is on PATH, a redis-server is started for the life of this process
 * with its data (AOF) in <project>/.data/redis. Otherwise it explains how to get one and exits 1.
 *
 * Children (redis-server, the app) run in their own process groups so that Ctrl-C in the
 * terminal reaches only this script; it then forwards one SIGINT to the app, waits for the app's
 * graceful shutdown (which still needs Redis) and only then stops the redis-server it started.
 *
 * If this script dies without doing so (SIGKILL of it or of its process group), nothing is left
 * behind either: the app reads EOF on a pipe from this process (scripts/lifeline.js, preloaded)
 * and stops itself gracefully, and scripts/redis-watchdog.js, started next to the redis-server,
 * stops that redis-server once the app is gone.
 */
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const Redis = require('ioredis');
const { buildConsole, consoleIsFresh } = require('./build-console');

const ROOT = path.resolve(__dirname, '..');
const LIFELINE = path.join(__dirname, 'lifeline.js');
const REDIS_WATCHDOG = path.join(__dirname, 'redis-watchdog.js');
const DEFAULT_URL = 'redis://127.0.0.1:6379';
const PING_TIMEOUT_MS = 1500;
const REDIS_BOOT_TIMEOUT_MS = 10_000;
const REDIS_STOP_TIMEOUT_MS = 10_000;
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1']);
/** Where `nest build api` may put the entry file, depending on the tsc rootDir it infers. */
const MAIN_CANDIDATES = [
  'dist/apps/api/main.js',
  'dist/apps/api/src/main.js',
  'dist/apps/api/apps/api/src/main.js',
  'dist/main.js',
];
const CONSOLE_SOURCE = path.join(ROOT, 'apps', 'api', 'console');
const SIGNAL_NUMBERS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

const log = (line) => console.log(`[start] ${line}`);
const fail = (line) => console.error(`[start] ${line}`);

// ---------------------------------------------------------------------------------------------
// Arguments

function parseArgs(argv) {
  let dev = false;
  const passThrough = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      passThrough.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '--dev') dev = true;
    else passThrough.push(arg);
  }
  return { dev, passThrough };
}

// ---------------------------------------------------------------------------------------------
// Redis

function parseRedisUrl(raw) {
  let url;
  try {
    url = new URL(raw);
  } catch {
    fail(`REDIS_URL is not a valid URL: ${raw}`);
    process.exit(1);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    fail(`REDIS_URL must start with redis:// or rediss://, got: ${raw}`);
    process.exit(1);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const port = Number(url.port || 6379);
  return { url, host, port, local: LOCAL_HOSTS.has(host) };
}

/** Hides the password when printing a URL. */
function redact(raw) {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return raw;
  }
}

/**
 * One PING, no retries. Resolves { ok: true } when Redis answered PONG,
 * { ok: false, reachable: true, error } when something answered but not with PONG
 * (auth error, not a Redis), { ok: false, reachable: false, error } when nothing answered.
 */
async function ping(url, timeoutMs = PING_TIMEOUT_MS) {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    reconnectOnError: () => false,
  });
  let lastError; // the socket's own error (ECONNREFUSED, ...) says more than "Connection is closed."
  client.on('error', (error) => {
    lastError = error;
  });
  let connected = false; // the TCP (or TLS) connection was accepted: something listens there
  client.once('connect', () => {
    connected = true;
  });
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(
      () => resolve({ ok: false, reachable: connected, error: new Error(`no answer within ${timeoutMs} ms`) }),
      timeoutMs,
    );
  });
  const attempt = (async () => {
    try {
      await client.connect();
      const reply = await client.ping();
      return reply === 'PONG'
        ? { ok: true }
        : { ok: false, reachable: true, error: new Error(`unexpected reply ${reply}`) };
    } catch (error) {
      return { ok: false, reachable: connected, error: lastError || error };
    }
  })();
  try {
    return await Promise.race([attempt, timeout]);
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

function onPath(command) {
  const probe = spawnSync(command, ['--version'], { encoding: 'utf8' });
  if (probe.error) return undefined;
  return (probe.stdout || '').trim();
}

function explainNoRedis(displayUrl, reason) {
  fail(`No Redis answered at ${displayUrl} (${reason}).`);
  fail('This app needs a Redis server (5.0 or newer; 7.x recommended). Any of these will do:');
  fail('  - Docker:  docker compose up -d redis        (redis:7 on 127.0.0.1:6379, data in a named volume)');
  fail('  - Debian/Ubuntu:  sudo apt-get install redis-server   (then `npm start` runs one for you');
  fail('    under .data/redis if none is already running; or use the system service)');
  fail('  - macOS:  brew install redis');
  fail('  - An existing server:  REDIS_URL=redis://user:password@host:6379 npm start');
}

/** Starts redis-server for the life of this process; resolves when it answers PING. */
async function startLocalRedis(target, rawUrl, state) {
  const dataDir = path.join(ROOT, '.data', 'redis');
  fs.mkdirSync(dataDir, { recursive: true });
  const logFile = path.join(dataDir, 'redis.log');
  const bind = target.host === '::1' ? '::1' : '127.0.0.1';
  const args = [
    '--port',
    String(target.port),
    '--bind',
    bind,
    '--dir',
    dataDir,
    '--appendonly',
    'yes',
    '--logfile',
    logFile,
    '--daemonize',
    'no',
  ];
  // A password in REDIS_URL (default user) must be accepted by the server we start.
  if (target.url.password && (!target.url.username || target.url.username === 'default')) {
    args.push('--requirepass', decodeURIComponent(target.url.password));
  }
  const child = spawn('redis-server', args, { stdio: 'ignore', detached: true, cwd: dataDir });
  state.redis = child;
  if (child.pid) state.redisWatchdog = startRedisWatchdog(child.pid);
  let exited;
  child.once('exit', (code, signal) => {
    exited = { code, signal };
    state.redis = undefined;
    // Its pid may be reused from now on: the watchdog must not signal it any more.
    if (state.redisWatchdog) state.redisWatchdog.kill('SIGTERM');
    if (state.phase !== 'stopping' && state.phase !== 'booting-redis') {
      fail(`redis-server (pid ${child.pid}) exited unexpectedly (${signal || `code ${code}`}); see ${logFile}`);
    }
  });
  child.once('error', (error) => {
    exited = { code: null, signal: null, error };
  });

  const deadline = Date.now() + REDIS_BOOT_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited) break;
    const result = await ping(rawUrl, 500);
    if (result.ok) return { child, dataDir, logFile };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const why = exited
    ? exited.error
      ? exited.error.message
      : `it exited with ${exited.signal || `code ${exited.code}`}`
    : `it did not answer PING within ${REDIS_BOOT_TIMEOUT_MS / 1000} s`;
  fail(`Started redis-server on ${bind}:${target.port} but ${why}.`);
  fail(`Last lines of ${logFile}:`);
  for (const line of tail(logFile, 8)) fail(`  ${line}`);
  return undefined;
}

/**
 * Stops the redis-server should this process die without stopping it (see redis-watchdog.js).
 * Its own process group, so that a SIGKILL of ours does not reach it; the IPC channel is what it
 * watches, and how it learns the app's pid.
 */
function startRedisWatchdog(redisPid) {
  const watchdog = spawn(process.execPath, [REDIS_WATCHDOG, String(redisPid)], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    detached: true,
  });
  watchdog.on('error', () => {}); // a failed send or spawn: it only guards against our own death
  watchdog.unref();
  watchdog.channel?.unref();
  return watchdog;
}

function tail(file, lines) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines);
  } catch {
    return ['(no log)'];
  }
}

function stopRedis(state) {
  const child = state.redis;
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      fail(`redis-server (pid ${child.pid}) did not stop within ${REDIS_STOP_TIMEOUT_MS / 1000} s; killing it`);
      child.kill('SIGKILL');
    }, REDIS_STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM'); // redis-server fsyncs the AOF and exits
  });
}

// ---------------------------------------------------------------------------------------------
// Build

function nestBin() {
  try {
    return require.resolve('@nestjs/cli/bin/nest.js', { paths: [ROOT] });
  } catch {
    fail('@nestjs/cli is not installed: run `npm ci` first.');
    process.exit(1);
  }
}

function findMain() {
  let best;
  for (const candidate of MAIN_CANDIDATES) {
    const file = path.join(ROOT, candidate);
    try {
      const mtimeMs = fs.statSync(file).mtimeMs;
      if (!best || mtimeMs > best.mtimeMs) best = { file, mtimeMs };
    } catch {
      // not this one
    }
  }
  return best;
}

/** The newest mtime among the inputs of `nest build api` (sources and build config). */
function newestSource() {
  let newest = { file: undefined, mtimeMs: 0 };
  const consider = (file) => {
    try {
      const { mtimeMs } = fs.statSync(file);
      if (mtimeMs > newest.mtimeMs) newest = { file, mtimeMs };
    } catch {
      // vanished meanwhile
    }
  };
  const walk = (dir) => {
    let entries;
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      if (full === CONSOLE_SOURCE) continue; // the browser's code: built by build-console.js
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('spec.ts')) consider(full);
    }
  };
  walk(path.join(ROOT, 'apps'));
  walk(path.join(ROOT, 'libs'));
  for (const config of ['tsconfig.json', 'tsconfig.build.json', 'nest-cli.json']) consider(path.join(ROOT, config));
  return newest;
}

async function buildIfNeeded(state) {
  const mainJs = await buildApiIfNeeded(state);
  if (mainJs && state.phase !== 'stopping') await buildConsoleIfNeeded();
  return mainJs;
}

/** The console (scripts/build-console.js) when dist/console is missing or older than its sources. */
async function buildConsoleIfNeeded() {
  if (consoleIsFresh()) return;
  log('The console in dist/console is missing or stale: building it');
  try {
    await buildConsole();
  } catch (error) {
    fail(`could not build the console (${error && error.message ? error.message : error}); /console answers 503`);
  }
}

function buildApiIfNeeded(state) {
  const main = findMain();
  const source = newestSource();
  if (main && main.mtimeMs >= source.mtimeMs) return Promise.resolve(main.file);
  log(
    main
      ? `${path.relative(ROOT, source.file)} is newer than ${path.relative(ROOT, main.file)}: running nest build api`
      : 'No build found: running nest build api',
  );
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [nestBin(), 'build', 'api'], { cwd: ROOT, stdio: 'inherit' });
    state.build = child;
    child.once('exit', (code, signal) => {
      state.build = undefined;
      if (state.phase === 'stopping') return; // a signal arrived; shutdown() is handling it
      if (code !== 0) {
        fail(`nest build api failed (${signal || `exit code ${code}`})`);
        return void shutdown(state, code || 1);
      }
      const built = findMain();
      if (!built) {
        fail(`nest build api succeeded but no main.js was found (looked for ${MAIN_CANDIDATES.join(', ')})`);
        return void shutdown(state, 1);
      }
      resolve(built.file);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Lifecycle

async function shutdown(state, code) {
  if (state.exiting) return;
  state.exiting = true;
  state.phase = 'stopping';
  if (state.redis) {
    log(`Stopping the redis-server started for this run (pid ${state.redis.pid})`);
    await stopRedis(state);
  }
  process.exit(code);
}

/**
 * Signals the child's whole process group, as the terminal's Ctrl-C would have: with --dev the
 * app runs under `nest start` behind a `sh -c`, which would not pass a signal on to it.
 */
function signalGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

function installSignalHandlers(state) {
  const onSignal = (signal) => {
    const now = Date.now();
    // `npm start` forwards the terminal's SIGINT to us again: one Ctrl-C arrives twice.
    if (state.lastSignalAt && now - state.lastSignalAt < 1000) return;
    const repeated = Boolean(state.lastSignalAt);
    state.lastSignalAt = now;
    const app = state.app;
    if (app && app.exitCode === null && app.signalCode === null) {
      // First one: graceful shutdown. A later one: forwarded again (Nest then exits at once).
      if (!repeated) log(`${signal}: stopping the app (again to force)`);
      signalGroup(app, signal === 'SIGHUP' ? 'SIGTERM' : signal);
      return;
    }
    if (state.build) state.build.kill('SIGTERM');
    void shutdown(state, 128 + (SIGNAL_NUMBERS[signal] || 15));
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, onSignal);
  // Last resort (uncaught error, process.exit elsewhere): never leave our redis-server behind.
  process.on('exit', () => {
    for (const child of [state.app, state.redis, state.build]) {
      if (child && child.exitCode === null && child.signalCode === null) signalGroup(child, 'SIGTERM');
    }
  });
}

function runApp(state, command, args, env) {
  // Own process group (detached): the terminal's Ctrl-C reaches only us, and we forward it once.
  // stdin is not the terminal: a background process group reading it would be stopped (SIGTTIN).
  // fd 3: the lifeline, a pipe we never write to; the app's end reads EOF when we die (lifeline.js).
  const child = spawn(command, ['-r', LIFELINE, ...args], {
    cwd: ROOT,
    env: { ...env, START_LIFELINE_FD: '3' },
    stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
    detached: true,
  });
  state.app = child;
  state.phase = 'running';
  const lifeline = child.stdio[3];
  if (lifeline) {
    lifeline.on('error', () => {});
    lifeline.unref();
  }
  if (child.pid && state.redisWatchdog && state.redisWatchdog.connected) state.redisWatchdog.send({ app: child.pid });
  child.once('error', (error) => {
    fail(`could not start the app: ${error.message}`);
    void shutdown(state, 1);
  });
  child.once('exit', (code, signal) => {
    const exitCode = code !== null ? code : 128 + (SIGNAL_NUMBERS[signal] || 15);
    if (code !== 0 && !state.lastSignalAt) log(`The app exited with ${signal || `code ${code}`}`);
    void shutdown(state, exitCode);
  });
}

async function main() {
  const { dev, passThrough } = parseArgs(process.argv.slice(2));
  const state = { phase: 'checking-redis' };
  installSignalHandlers(state);

  const rawUrl = process.env.REDIS_URL || DEFAULT_URL;
  // NOTE: with REDIS_CLUSTER=true, REDIS_URL lists seed nodes: each must parse, the first is PINGed,
  // and no local redis-server is started in their place (a cluster is not one process).
  const seeds = rawUrl
    .split(',')
    .map((seed) => seed.trim())
    .filter(Boolean);
  const cluster = /^true$/i.test(process.env.REDIS_CLUSTER || '');
  for (const seed of seeds.slice(1)) parseRedisUrl(seed);
  const displayUrl = redact(seeds[0] || rawUrl);
  const target = parseRedisUrl(seeds[0] || rawUrl);

  const result = await ping(seeds[0] || rawUrl);
  if (result.ok) {
    log(`Redis answers at ${displayUrl}${cluster ? ' (a Redis Cluster node)' : ''}`);
  } else if (cluster) {
    fail(
      `No Redis Cluster node answers at ${displayUrl}: ${(result.error && (result.error.code || result.error.message)) || 'no answer'}`,
    );
    fail('Start the cluster first (docker-compose: `docker compose --profile cluster up -d`), or fix REDIS_URL.');
    return shutdown(state, 1);
  } else if (result.reachable) {
    fail(`Something listens at ${displayUrl} but did not answer PING with PONG: ${result.error.message}`);
    fail('Fix REDIS_URL (host, port, user, password) or free that port.');
    return shutdown(state, 1);
  } else {
    const reason = result.error && (result.error.code || result.error.message);
    const redisVersion = target.local && target.url.protocol === 'redis:' ? onPath('redis-server') : undefined;
    if (!redisVersion) {
      explainNoRedis(displayUrl, reason);
      return shutdown(state, 1);
    }
    state.phase = 'booting-redis';
    const started = await startLocalRedis(target, rawUrl, state);
    if (!started) return shutdown(state, 1);
    if (state.phase === 'stopping') return; // a signal arrived while it booted
    state.phase = 'starting';
    const version = (redisVersion.match(/v=(\S+)/) || [])[1] || '';
    log(
      `No Redis was running at ${displayUrl}: started redis-server${version ? ` ${version}` : ''} ` +
        `(pid ${started.child.pid}) with its data (AOF) in ${path.relative(process.cwd(), started.dataDir) || '.'}` +
        ` and log in ${path.relative(process.cwd(), started.logFile)}; it stops when this process exits.`,
    );
  }
  if (state.phase === 'stopping') return;

  const env = { ...process.env, REDIS_URL: rawUrl };
  if (dev) {
    env.NODE_ENV = env.NODE_ENV || 'development';
    const args = [nestBin(), 'start', 'api', '--watch'];
    if (passThrough.length) args.push('--', ...passThrough);
    log(`nest start api --watch${passThrough.length ? ` -- ${passThrough.join(' ')}` : ''}`);
    return runApp(state, process.execPath, args, env);
  }

  state.phase = 'building';
  const mainJs = await buildIfNeeded(state);
  if (state.phase === 'stopping') return;
  log(`node ${path.relative(ROOT, mainJs)}${passThrough.length ? ` ${passThrough.join(' ')}` : ''}`);
  runApp(state, process.execPath, ['--enable-source-maps', mainJs, ...passThrough], env);
}

main().catch((error) => {
  fail(error && error.stack ? error.stack : String(error));
  process.exit(1);
});
