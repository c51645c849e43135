/**
 * A smoke test of the real desktop app, where the Electron binary is installed (a plain
 * `npm install` with internet). It reports itself skipped, with the reason, where it is not.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { _electron as electron } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/helpers';

function electronBinary(): { path: string } | { missing: string } {
  const dir = join(ROOT, 'node_modules', 'electron');
  const pathFile = join(dir, 'path.txt');
  if (!existsSync(pathFile)) {
    return {
      missing:
        'the Electron binary is not installed (npm ci --ignore-scripts skips its download; run a plain npm install with internet)',
    };
  }
  const bin = join(dir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(bin) ? { path: bin } : { missing: `Electron binary missing at ${bin}` };
}

describe('the Electron app', () => {
  it('opens a sandboxed window that reaches the engine host', async (ctx) => {
    const found = electronBinary();
    if ('missing' in found) return ctx.skip(found.missing);
    const app = await electron.launch({ executablePath: found.path, args: [ROOT], cwd: ROOT });
    try {
      const page = await app.firstWindow();
      await expect.poll(() => page.title()).toBe('SpecDec Studio');
      // The preload API exists; Node does not.
      expect(
        await page.evaluate(() => typeof (window as unknown as { specdec?: unknown }).specdec),
      ).toBe('object');
      expect(
        await page.evaluate(() => typeof (globalThis as unknown as { require?: unknown }).require),
      ).toBe('undefined');
      // The engine host answered: the run button becomes usable.
      await page.getByTestId('run-button').waitFor({ state: 'visible', timeout: 60_000 });
      // Sandboxed renderer: no Node globals at all.
      expect(
        await page.evaluate(() => typeof (globalThis as unknown as { process?: unknown }).process),
      ).toBe('undefined');
    } finally {
      await app.close();
    }
  });

  it('`npm start` without the binary says it is missing, how to fetch it, and about serve', async (ctx) => {
    if (!('missing' in electronBinary())) return ctx.skip('the Electron binary is installed');
    const r = spawnSync(process.execPath, [join(ROOT, 'tools', 'start-app.mjs')], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('the Electron binary is not installed');
    expect(r.stderr).toContain('node node_modules/electron/install.js');
    expect(r.stderr).toContain('npm run serve');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});
