import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it). */
export const CHROMIUM = '/usr/bin/chromium';
const ROOT = resolve(__dirname, '..', '..', '..', '..');
/** Where screenshots go when CONSOLE_SCREENSHOTS=1 (the docs show them). */
const SCREENSHOTS = join(ROOT, 'docs', 'images');

/**
 * Builds the console (scripts/build-console.js) into a folder of its own and gives it to `start`
 * (as CONSOLE_ASSETS_DIR of the app it creates); the folder is removed once `start` is done: the
 * app reads the files into memory when it starts.
 */
export async function withConsoleBuild<T>(start: (assetsDir: string) => Promise<T>): Promise<T> {
  const out = mkdtempSync(join(tmpdir(), 'console-'));
  try {
    const run = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-console.js'), out], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (run.status !== 0) throw new Error(`the console build failed:\n${run.stdout}${run.stderr}`);
    return await start(out);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Headless Chromium with the flags this machine needs (no sandbox as root, no background traffic). */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium); .ci/run does`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A page with everything that would show a broken console recorded: console errors, page errors, CSP violations. */
export interface WatchedPage {
  context: BrowserContext;
  page: Page;
  /** Every URL the page requested. */
  requests: string[];
  /** Console errors, uncaught page errors and CSP violations, each as one line, less those allowed. */
  problems(): Promise<string[]>;
  /** Allows console errors matching `pattern`: those a test provokes on purpose (a refused request logs one). */
  allow(pattern: RegExp): void;
}

/** Records CSP violations in the page (the test file has no DOM types: the browser runs this text). */
const CSP_LISTENER = `
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (event) => {
    window.__cspViolations.push(event.violatedDirective + ' blocked ' + (event.blockedURI || 'inline'));
  });
`;

/** A fresh browser context (no cookies, no storage) and a page in it, watched. */
export async function openWatchedPage(browser: Browser): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  const allowed: RegExp[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  page.on('request', (request) => requests.push(request.url()));
  // NOTE: an init script comes from the browser's automation, not from the page: the page's CSP does not apply to it.
  await page.addInitScript({ content: CSP_LISTENER });
  return {
    context,
    page,
    requests,
    problems: async () => {
      const violations = await page.evaluate<string[]>('window.__cspViolations || []').catch(() => [] as string[]);
      return [
        ...errors.filter((e) => !allowed.some((a) => a.test(e))),
        ...violations.map((v) => `CSP violation: ${v}`),
      ];
    },
    allow: (pattern) => allowed.push(pattern),
  };
}

/** Signs in through the form. */
export async function signIn(page: Page, url: string, key: string): Promise<void> {
  await page.goto(`${url}/console/`);
  // From the keyboard: the field has the focus, Enter submits.
  await page.getByLabel('API key').waitFor();
  // NOTE: the field takes the focus just after it is drawn; keys typed before would go nowhere.
  await page.waitForFunction(`document.activeElement?.id === 'api-key'`);
  await page.keyboard.type(key);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
}

/** A screenshot of the page; written to docs/images/<name>.png when CONSOLE_SCREENSHOTS=1. */
export async function screenshot(page: Page, name: string): Promise<Buffer> {
  const png = await page.screenshot({ fullPage: true });
  if (process.env.CONSOLE_SCREENSHOTS === '1') {
    mkdirSync(SCREENSHOTS, { recursive: true });
    writeFileSync(join(SCREENSHOTS, `${name}.png`), png);
  }
  return png;
}
