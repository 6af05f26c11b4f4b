import { CommandRunner, Option } from 'nest-commander';
import { resolveUrl } from './args';
import { errorLines, exitCodeFor } from './format';
import { DEFAULT_URL, OpsClient, OpsHttpError } from './ops-client';

/** The options every command takes. */
export interface ConnectionOptions {
  url?: string;
  apiKey?: string;
  json?: boolean;
}

export interface CommandContext {
  client: OpsClient;
  json: boolean;
  /** A line to stdout. */
  out(line: string): void;
  /** A line to stderr. */
  err(line: string): void;
}

/**
 * A command that talks to the operations API: `--url`, `--api-key` and `--json` on every command,
 * errors printed the same way, and the exit code set from what `execute` returns or throws.
 */
export abstract class OpsCommand<O extends ConnectionOptions = ConnectionOptions> extends CommandRunner {
  @Option({
    flags: '--url <url>',
    description: `the platform's base URL (default: $PLATFORM_URL, else ${DEFAULT_URL})`,
  })
  parseUrl(value: string): string {
    return value;
  }

  @Option({ flags: '--api-key <key>', description: 'API key sent as x-api-key (default: $API_KEY)' })
  parseApiKey(value: string): string {
    return value;
  }

  @Option({ flags: '--json', description: 'print JSON on stdout instead of text' })
  parseJson(): boolean {
    return true;
  }

  async run(params: string[], options: O = {} as O): Promise<void> {
    const json = options.json === true;
    try {
      const client = new OpsClient({
        baseUrl: resolveUrl(options.url, process.env, DEFAULT_URL),
        apiKey: options.apiKey ?? process.env.API_KEY,
      });
      const ctx: CommandContext = {
        client,
        json,
        out: (line) => process.stdout.write(`${line}\n`),
        err: (line) => process.stderr.write(`${line}\n`),
      };
      process.exitCode = (await this.execute(params, options, ctx)) ?? 0;
    } catch (error) {
      for (const line of errorLines(error)) process.stderr.write(`${line}\n`);
      process.exitCode = exitCodeFor(error);
    }
  }

  /** Does the work; resolves to the exit code (0 when nothing is returned). */
  protected abstract execute(params: string[], options: O, ctx: CommandContext): Promise<number | void>;
}

/** JSON for stdout. */
export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/**
 * Calls `handler` on the first Ctrl-C (SIGINT) instead of dying; a second Ctrl-C exits 130 at
 * once. Returns the function that removes it.
 */
export function onInterrupt(handler: () => void): () => void {
  let count = 0;
  const listener = () => {
    count++;
    if (count === 1) handler();
    else process.exit(130);
  };
  process.on('SIGINT', listener);
  return () => process.off('SIGINT', listener);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** How long a poll waits after a 429 (the server's Retry-After, 1-60 s), saying so on stderr. */
export function rateLimitPause(error: OpsHttpError, ctx: CommandContext): number {
  const ms = Math.min(60_000, Math.max(1000, error.retryAfterMs ?? 5000));
  ctx.err(`rate limited by the platform (429): polling again in ${Math.round(ms / 1000)}s`);
  return ms;
}
