import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './support/redis-server';

/** `npm start`'s first step: find Redis, or start one, or say how to get one. */
describe('scripts/start.js', () => {
  it('exits 1 with instructions when nothing answers at REDIS_URL and redis-server is not installed', async () => {
    // Tried: a free local port and a PATH that holds node but no redis-server.
    const bin = mkdtempSync(join(tmpdir(), 'no-redis-'));
    symlinkSync(process.execPath, join(bin, 'node'));
    try {
      const port = await freePort();
      const run = spawnSync(process.execPath, ['scripts/start.js'], {
        env: { PATH: bin, HOME: process.env.HOME ?? '/root', REDIS_URL: `redis://127.0.0.1:${port}` },
        encoding: 'utf8',
        timeout: 30_000,
      });
      const output = run.stdout + run.stderr;
      expect(run.status).toBe(1);
      expect(output).toContain(`redis://127.0.0.1:${port}`);
      expect(output).toMatch(/docker compose up -d redis/);
      expect(output).toMatch(/apt-get install redis-server/);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
