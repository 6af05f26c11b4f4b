import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The console's settings, from its `CONSOLE_*` environment variables. */
export interface ConsoleSettings {
  /** A session unused this long ends. @default 30 minutes (`CONSOLE_SESSION_IDLE_MS`) */
  sessionIdleMs: number;
  /** A session ends this long after sign-in, used or not. @default 12 hours (`CONSOLE_SESSION_MAX_MS`) */
  sessionMaxMs: number;
  /** How often the overview is sampled while someone watches it. @default 2000 (`CONSOLE_SAMPLE_MS`) */
  sampleMs: number;
  /** Failed sign-ins per minute per client address before 429. @default 10 (`CONSOLE_SIGNIN_FAILURES`) */
  signInFailuresPerMinute: number;
  /** Secure on the cookie: `auto` when the request came over https. @default auto (`CONSOLE_COOKIE_SECURE`) */
  cookieSecure: 'auto' | boolean;
  /** The built console (`npm run build`). @default `<project>/dist/console` (`CONSOLE_ASSETS_DIR`) */
  assetsDir: string;
}

export const CONSOLE_SETTINGS = Symbol('CONSOLE_SETTINGS');

/** The folder with nest-cli.json above this file: the project, from its sources and from dist/ alike. */
function projectRoot(): string {
  for (let dir = __dirname; dirname(dir) !== dir; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nest-cli.json'))) return dir;
  }
  return process.cwd();
}

/** The settings from `env`, or an error listing every bad variable. */
export function readConsoleSettings(env: NodeJS.ProcessEnv = process.env): ConsoleSettings {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  };
  const sessionIdleMs = int('CONSOLE_SESSION_IDLE_MS', 30 * 60_000, 1000, 7 * 86_400_000);
  const sessionMaxMs = int('CONSOLE_SESSION_MAX_MS', 12 * 3_600_000, 1000, 30 * 86_400_000);
  const sampleMs = int('CONSOLE_SAMPLE_MS', 2000, 100, 60_000);
  const signInFailuresPerMinute = int('CONSOLE_SIGNIN_FAILURES', 10, 1, 100_000);
  const secure = env.CONSOLE_COOKIE_SECURE ?? 'auto';
  if (!['auto', 'true', 'false'].includes(secure))
    problems.push(`CONSOLE_COOKIE_SECURE must be auto, true or false (got "${secure}")`);
  if (problems.length > 0) throw new Error(`Invalid console settings:\n  ${problems.join('\n  ')}`);
  return {
    sessionIdleMs: Math.min(sessionIdleMs, sessionMaxMs),
    sessionMaxMs,
    sampleMs,
    signInFailuresPerMinute,
    cookieSecure: secure === 'auto' ? 'auto' : secure === 'true',
    assetsDir: env.CONSOLE_ASSETS_DIR ? resolve(env.CONSOLE_ASSETS_DIR) : join(projectRoot(), 'dist', 'console'),
  };
}
