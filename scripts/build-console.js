#!/usr/bin/env node
'use strict';
/**
 * Builds the operations console (apps/api/console, Preact) with esbuild into dist/console, or
 * into the folder given as the first argument:
 *
 *   dist/console/index.html                  refers to the two files below; no inline script or style
 *   dist/console/assets/console-<hash>.js    one ES module (+ .map)
 *   dist/console/assets/console-<hash>.css
 *
 * `npm run build` runs it after `nest build api` (which empties dist/ first); `npm start` runs it
 * when dist/console is missing or older than the console's sources.
 */
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
/** The console's sources: what a build depends on. */
const CONSOLE_SOURCES = [
  path.join(ROOT, 'apps', 'api', 'console'),
  path.join(ROOT, 'apps', 'api', 'src', 'console', 'live'),
];
const DEFAULT_OUT = path.join(ROOT, 'dist', 'console');

async function buildConsole(outDir = DEFAULT_OUT) {
  const esbuild = require('esbuild');
  const source = path.join(ROOT, 'apps', 'api', 'console');
  fs.rmSync(outDir, { recursive: true, force: true });
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: { console: path.join(source, 'src', 'main.tsx') },
    outdir: path.join(outDir, 'assets'),
    entryNames: '[name]-[hash]',
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: 'linked',
    legalComments: 'none',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: path.join(source, 'tsconfig.json'),
    metafile: true,
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((file) => path.basename(file));
  const js = outputs.find((file) => file.endsWith('.js'));
  const css = outputs.find((file) => file.endsWith('.css'));
  if (!js || !css) throw new Error(`esbuild wrote no script or no stylesheet: ${outputs.join(', ')}`);
  const page = fs.readFileSync(path.join(source, 'index.html'), 'utf8').replace('{{JS}}', js).replace('{{CSS}}', css);
  fs.writeFileSync(path.join(outDir, 'index.html'), page);
  return { outDir, files: ['index.html', ...outputs.map((file) => `assets/${file}`)] };
}

/** The newest mtime of the console's sources. */
function newestConsoleSource() {
  let newest = 0;
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else newest = Math.max(newest, fs.statSync(full).mtimeMs);
    }
  };
  for (const dir of CONSOLE_SOURCES) if (fs.existsSync(dir)) walk(dir);
  return newest;
}

/** Whether `outDir` holds a console built after its sources last changed. */
function consoleIsFresh(outDir = DEFAULT_OUT) {
  try {
    return fs.statSync(path.join(outDir, 'index.html')).mtimeMs >= newestConsoleSource();
  } catch {
    return false;
  }
}

module.exports = { buildConsole, consoleIsFresh };

if (require.main === module) {
  const started = Date.now();
  buildConsole(process.argv[2] ? path.resolve(process.argv[2]) : undefined).then(
    ({ outDir, files }) =>
      console.log(
        `console built in ${Date.now() - started} ms: ${path.relative(process.cwd(), outDir)}/{${files.join(',')}}`,
      ),
    (error) => {
      console.error(error && error.message ? error.message : error);
      process.exit(1);
    },
  );
}
