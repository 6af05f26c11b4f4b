import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import * as ts from 'typescript';

const ROOT = resolve(__dirname, '../..');

/** Where a transpiled copy of the apps and libraries lives, and how to start one of its apps. */
export interface TranspiledApp {
  dir: string;
  /** `node -r tsconfig-paths/register <main>` from `dir` (path aliases resolve against the copied tsconfig.json). */
  main(app: string): string;
  /** Removes the copy. */
  remove(): void;
}

/**
 * Transpiles `apps/` and `libs/` (no specs, no test folders) once, file by file, with the
 * repository's compiler options, into a temporary folder with a `node_modules` link and a copy of
 * tsconfig.json: what ts-node's transpile-only mode does at every start, done once, so that an app
 * killed and restarted several times boots in seconds instead of compiling again. The semantics
 * are ts-node's (`isolatedModules`: each file alone); `dist/` is left alone, and nothing is type
 * checked (others may be mid-edit: the app only has to run).
 */
export function transpileApps(): TranspiledApp {
  const config = ts.readConfigFile(join(ROOT, 'tsconfig.json'), (path) => readFileSync(path, 'utf8'));
  if (config.error)
    throw new Error(`tsconfig.json: ${ts.flattenDiagnosticMessageText(config.error.messageText, '\n')}`);
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  const compilerOptions: ts.CompilerOptions = {
    ...options,
    sourceMap: false,
    inlineSourceMap: false,
    declaration: false,
    noEmit: false,
  };
  const dir = mkdtempSync(join(tmpdir(), 'platform-app-'));
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'test' && entry.name !== 'node_modules') walk(path);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') && !entry.name.endsWith('.spec.ts')) {
        const { outputText } = ts.transpileModule(readFileSync(path, 'utf8'), { compilerOptions, fileName: path });
        const target = join(dir, relative(ROOT, path)).replace(/\.ts$/, '.js');
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, outputText);
      }
    }
  };
  walk(join(ROOT, 'apps'));
  walk(join(ROOT, 'libs'));
  copyFileSync(join(ROOT, 'tsconfig.json'), join(dir, 'tsconfig.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return {
    dir,
    main: (app) => join(dir, 'apps', app, 'src', 'main.js'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
