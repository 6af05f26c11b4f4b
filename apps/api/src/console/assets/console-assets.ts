import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { CONSOLE_SETTINGS, ConsoleSettings } from '../console-settings';

export interface ConsoleAsset {
  body: Buffer;
  contentType: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * The built console (`npm run build` writes it to `dist/console`: index.html and content-hashed
 * files under assets/), read into memory once at startup: a handful of small files.
 */
@Injectable()
export class ConsoleAssets implements OnModuleInit {
  private readonly logger = new Logger('Console');
  private index?: ConsoleAsset;
  private readonly files = new Map<string, ConsoleAsset>();

  constructor(@Inject(CONSOLE_SETTINGS) private readonly settings: ConsoleSettings) {}

  onModuleInit(): void {
    const dir = this.settings.assetsDir;
    const indexFile = join(dir, 'index.html');
    if (!existsSync(indexFile)) {
      this.logger.warn(
        `the console is not built (no ${indexFile}): run \`npm run build\`; /console answers 503 meanwhile`,
      );
      return;
    }
    this.index = { body: readFileSync(indexFile), contentType: TYPES['.html'] };
    const assets = join(dir, 'assets');
    for (const name of existsSync(assets) ? readdirSync(assets) : []) {
      const contentType = TYPES[extname(name)];
      if (contentType) this.files.set(name, { body: readFileSync(join(assets, name)), contentType });
    }
  }

  /** index.html, or undefined when the console is not built. */
  page(): ConsoleAsset | undefined {
    return this.index;
  }

  /** A file of assets/ by name. */
  asset(name: string): ConsoleAsset | undefined {
    return this.files.get(name);
  }
}
