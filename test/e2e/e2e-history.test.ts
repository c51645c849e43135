/**
 * History as a lab notebook, in real Chromium against `serve` on the embedded pair: each saved
 * sweep says its pair, prompt, K range, best K and speedup, status and date; after the engine
 * restarts and the page reloads, a saved sweep replays token by token and exports both CSVs
 * (its runs' event logs were saved); sweeps are renamed, deleted and overlaid on the charts;
 * a sweep cancelled before its first run finished is not kept.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chromiumMissing,
  idle,
  openApp,
  pressRun,
  resultRows,
  runSweep,
  SHOTS,
  type BrowserApp,
} from '../support/browserApp';

const missing = chromiumMissing;

let app: BrowserApp;
let page: Page;

beforeAll(async () => {
  if (missing) return;
  app = await openApp('e2e-history');
  ({ page } = app);
});

afterAll(async () => {
  await app?.close();
});

const entries = (): ReturnType<Page['getByTestId']> => page.getByTestId('history-entry');
const entry = (title: string): ReturnType<Page['locator']> =>
  entries().filter({ has: page.getByTestId('history-title').getByText(title, { exact: true }) });
const series = async (testid: string): Promise<string[]> =>
  ((await page.getByTestId(testid).getAttribute('data-series')) ?? '').split('|');

describe.skipIf(missing !== null)(
  `History as a lab notebook${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    it('lists each saved sweep with its pair, prompt, K range, best K and speedup, status and date', async () => {
      await expect.poll(() => page.getByTestId('run-button').isEnabled()).toBe(true);
      await runSweep(page, 30, [1, 2]);
      await idle(page);
      await runSweep(page, 40, [1, 3, 4]);
      await idle(page);
      await expect.poll(() => entries().count()).toBe(2);
      const newest = entries().first();
      expect(await newest.getByTestId('history-pair').textContent()).toBe(
        'brown-pair/draft → brown-pair/target, fp32',
      );
      const text = (await newest.textContent())!;
      expect(text).toContain('K 1–4 (3 values)');
      expect(text).toContain('4 runs');
      expect(text).toContain('finished');
      expect(text).toContain('“Artificial intelligence is rapidly transforming our world by”');
      // the card says the verdict's own words; on a loaded machine one run each may beat nothing
      expect(await newest.getByTestId('history-best').textContent()).toMatch(
        /^((best|fastest) K=[134], \d+\.\d\dx|none beat the baseline \(fastest K=[134], \d+\.\d\dx\))/,
      );
      expect(await newest.getByTestId('history-title').textContent()).toMatch(/^Sweep of /);
    });

    it('replays a saved sweep after the engine restarts and the page reloads, and exports both CSVs', async () => {
      await app.server.killHost();
      await page.reload();
      await expect.poll(() => entries().count(), { timeout: 60_000 }).toBe(2);
      // the older sweep (K 1 and 2)
      await entries().last().getByTestId('history-item').click();
      await expect.poll(() => resultRows(page)).toBe(3);
      // its fastest run is loaded from the saved step log and shown whole (at its end)
      const label = page.getByTestId('step-label');
      await expect
        .poll(() => label.textContent(), { timeout: 30_000 })
        .toMatch(/^Step (\d+) of \1 · /);
      expect(await page.getByTestId('token-count').textContent()).toMatch(/^\s*30 new tokens/);
      const select = page.getByTestId('run-select');
      const saved = await select
        .locator('optgroup')
        .evaluateAll((groups) => groups.map((g) => g.getAttribute('label')));
      expect(saved.some((g) => g?.startsWith('Saved: Sweep of '))).toBe(true);
      expect(await select.locator('optgroup[label^="Saved"] option').allTextContents()).toEqual([
        'Baseline',
        'K=1',
        'K=2',
      ]);
      // Left steps back from the end
      const lastStep = Number(/^Step (\d+)/.exec((await label.textContent())!)![1]);
      await page.locator('body').click({ position: { x: 2, y: 300 } });
      await page.keyboard.press('Shift+ArrowLeft');
      await page.keyboard.press('Shift+ArrowLeft');
      await expect.poll(() => label.textContent()).toMatch(new RegExp(`^Step ${lastStep - 2} of `));
      expect(await page.getByTestId('token').count()).toBeGreaterThan(1);
      // another saved run, chosen by hand: shown whole too
      await select.selectOption({ label: 'K=1' });
      await expect.poll(() => label.textContent()).toMatch(/^Step (\d+) of \1 · drafted/);
      expect(await page.getByTestId('token-count').textContent()).toMatch(/^\s*30 new tokens/);

      const [steps] = await Promise.all([
        page.waitForEvent('download'),
        page.getByTestId('export-steps').click(),
      ]);
      const stepRows = parse(readFileSync(await steps.path(), 'utf8'), { columns: true }) as Array<
        Record<string, string>
      >;
      expect(stepRows.filter((r) => r.type === 'emit')).toHaveLength(30);
      expect(stepRows[0]!.k).toBe('1');
      expect(stepRows[0]!.prompt).toBe(
        'Artificial intelligence is rapidly transforming our world by',
      );
      const [summary] = await Promise.all([
        page.waitForEvent('download'),
        page.getByTestId('export-runs').click(),
      ]);
      const sumRows = parse(readFileSync(await summary.path(), 'utf8'), { columns: true }) as Array<
        Record<string, string>
      >;
      expect(sumRows.map((r) => r.k)).toEqual(['', '1', '2']);
    });

    it('renames a saved sweep, overlays it on the charts of another, and deletes it', async () => {
      const older = entries().last();
      await older.getByTestId('history-rename').click();
      await older.getByTestId('history-name-input').fill('  short run, K 1-2 ');
      await older.getByTestId('history-name-save').click();
      await expect.poll(() => entry('short run, K 1-2').count()).toBe(1);
      // the name is on disk: a reload keeps it
      await page.reload();
      await expect.poll(() => entry('short run, K 1-2').count()).toBe(1);

      // open the newer sweep and draw the renamed one over its charts
      await entries().first().getByTestId('history-item').click();
      await expect.poll(() => resultRows(page)).toBe(4);
      await entry('short run, K 1-2').getByTestId('history-overlay').check();
      await expect.poll(() => series('chart-time')).toContain('short run, K 1-2');
      await expect.poll(() => series('chart-passes')).toContain('short run, K 1-2');
      expect(await series('chart-time')).toContain('Speculative (median)');
      await page.getByTestId('time-card').screenshot({ path: join(SHOTS, 'overlay.png') });
      await page.getByTestId('history-list').scrollIntoViewIfNeeded();
      // sections below the experiment are drawn once they come near the window: let them paint
      await page.evaluate(
        () => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))),
      );
      await page.screenshot({ path: join(SHOTS, 'history.png') });

      // delete it: asked once more, then gone from the list, the disk and the charts
      const dataDir = app.dataDir;
      const before = readdirSync(join(dataDir, 'history')).length;
      const id = (await entry('short run, K 1-2').getAttribute('data-id'))!;
      expect(existsSync(join(dataDir, 'history', `${id}.events.jsonl`))).toBe(true);
      await entry('short run, K 1-2').getByTestId('history-delete').click();
      await entry('short run, K 1-2').getByTestId('history-delete-confirm').click();
      await expect.poll(() => entries().count()).toBe(1);
      expect(readdirSync(join(dataDir, 'history')).length).toBe(before - 3);
      await expect.poll(() => series('chart-time')).not.toContain('short run, K 1-2');
    });

    it('keeps no sweep that ended before its first run finished', async () => {
      await page.getByTestId('history-close').click();
      await runSweep(page, 500, [1, 2, 3, 4, 5, 6, 7, 8]);
      await page.getByTestId('cancel-button').click();
      await idle(page);
      expect(await resultRows(page)).toBe(0);
      await page.getByTestId('history-refresh').click();
      await expect.poll(() => page.getByTestId('history-refresh').isEnabled()).toBe(true);
      expect(await entries().count()).toBe(1);
      // and a refused attempt keeps nothing either
      await page.getByTestId('max-new-tokens-input').fill('20');
      await page.getByTestId('target-source-kind').selectOption('folder');
      await page.getByTestId('target-dir-input').fill('/no/such/model-folder');
      await pressRun(page);
      await idle(page);
      await page.getByTestId('target-source-kind').selectOption('embedded');
      expect(await entries().count()).toBe(1);
    });
  },
);
