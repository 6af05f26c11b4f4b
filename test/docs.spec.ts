import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import * as ts from 'typescript';

const ROOT = resolve(__dirname, '..');

/** Markdown files users read: the README, docs/ and each library's README. */
function userDocs(): string[] {
  const files = ['README.md'];
  const walk = (dir: string) => {
    for (const name of readdirSync(join(ROOT, dir))) {
      const path = join(dir, name);
      if (statSync(join(ROOT, path)).isDirectory()) walk(path);
      else if (name.endsWith('.md')) files.push(path);
    }
  };
  walk('docs');
  for (const lib of readdirSync(join(ROOT, 'libs'))) {
    if (existsSync(join(ROOT, 'libs', lib, 'README.md'))) files.push(join('libs', lib, 'README.md'));
  }
  return files;
}

/** `[text](target)` links of a markdown file, outside code blocks. */
function links(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]);
}

/** Names a module exports (values and types), as the TypeScript compiler sees them. */
function exportsOf(file: string): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  )!;
  const program = ts.createProgram([join(ROOT, file)], config.options);
  const checker = program.getTypeChecker();
  const symbol = checker.getSymbolAtLocation(program.getSourceFile(join(ROOT, file))!)!;
  return checker
    .getExportsOfModule(symbol)
    .map((s) => s.getName())
    .sort();
}

/** Backticked names in the first column of the tables of one `## <heading>` section. */
function documentedNames(markdown: string, heading: RegExp): string[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => heading.test(l));
  if (start < 0) return [];
  const names: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^## /.test(line)) break;
    const cell = /^\|\s*`([A-Za-z_$][\w$]*)`/.exec(line);
    if (cell) names.push(cell[1]);
  }
  return names.sort();
}

describe('docs', () => {
  it('keeps the README short: what it is, the two commands, a tour, links', () => {
    const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n').length;
    expect(lines).toBeLessThanOrEqual(360);
  });

  it.each(userDocs())('%s links only to files of the repository, and they exist', (file) => {
    const broken: string[] = [];
    for (const target of links(readFileSync(join(ROOT, file), 'utf8'))) {
      if (/^(https?:|mailto:)/.test(target) || target.startsWith('#')) continue;
      const path = resolve(ROOT, dirname(file), decodeURIComponent(target.split('#')[0]));
      if (relative(ROOT, path).startsWith('..') || !existsSync(path)) broken.push(target);
    }
    expect(broken).toEqual([]);
  });

  it('documents in the event-bus README exactly what index.ts exports, and the catalogue and transport entry points', () => {
    const readme = readFileSync(join(ROOT, 'libs/event-bus/README.md'), 'utf8');
    expect(documentedNames(readme, /^## API/)).toEqual(exportsOf('libs/event-bus/src/index.ts'));
    expect(documentedNames(readme, /^## Contract tooling/)).toEqual(exportsOf('libs/event-bus/src/catalogue.ts'));
    expect(documentedNames(readme, /^## Nest microservices transport/)).toEqual(
      exportsOf('libs/event-bus/src/transport.ts'),
    );
  });

  it('documents in the event-store README exactly what its index.ts exports', () => {
    const readme = readFileSync(join(ROOT, 'libs/event-store/README.md'), 'utf8');
    expect(documentedNames(readme, /^## API/)).toEqual(exportsOf('libs/event-store/src/index.ts'));
  });
});
