/**
 * End to end in real Chromium against `serve`, on the embedded pair: run a sweep, see coloured
 * tokens, step back and forth, see the charts drawn, export and parse the CSV, cancel mid-run and
 * keep finished rows, survive the engine dying, reload and find the run in History.
 * Screenshots go to test-results/screenshots; with UPDATE_SCREENSHOTS=1 to docs/screenshots, which
 * the README shows.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { RUN_CSV_COLUMNS } from '../../src/results/runsCsv';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/cli/serve';
import {
  chromiumMissing,
  idle,
  longTasks,
  openApp,
  painted,
  resultRows,
  runSweep,
  SHOTS,
  watchLongTasks,
  type BrowserApp,
} from '../support/browserApp';

const missing = chromiumMissing;

let app: BrowserApp;
let server: RunningServer;
let page: Page;

beforeAll(async () => {
  if (missing) return;
  app = await openApp('e2e');
  ({ server, page } = app);
});

afterAll(async () => {
  await app?.close();
});

describe.skipIf(missing !== null)(
  `the app in Chromium${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    it('runs the seed sweep and colours every token by kind', async () => {
      await expect.poll(() => page.getByTestId('run-button').isEnabled()).toBe(true);
      await runSweep(page, 60, [1, 2, 3, 4, 5, 8]);
      await expect.poll(() => resultRows(page), { timeout: 120_000 }).toBe(7);
      await idle(page);
      const kinds = await page
        .getByTestId('token')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')));
      expect(kinds).toContain('prompt');
      expect(kinds.some((k) => k === 'accepted')).toBe(true);
      expect(kinds.some((k) => k === 'correction' || k === 'bonus')).toBe(true);
      await expect.poll(() => page.getByTestId('best-k-row').count()).toBe(1);
      await page.screenshot({ path: join(SHOTS, 'sweep.png'), fullPage: true });
    });

    it('steps back and forth through a finished run, with buttons and keys', async () => {
      const label = page.getByTestId('step-label');
      const before = await label.textContent();
      await page.getByTestId('step-back').click();
      await page.getByTestId('step-back').click();
      const back = await label.textContent();
      expect(back).not.toBe(before);
      await page.getByTestId('step-forward').click();
      expect(await label.textContent()).not.toBe(back);
      await page.locator('body').click({ position: { x: 5, y: 5 } });
      await page.keyboard.press('ArrowLeft');
      await page.keyboard.press('ArrowLeft');
      expect(await label.textContent()).not.toBe(before);
      await page.getByTestId('token-stream').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(SHOTS, 'step-through.png') });
    });

    it('draws the charts', async () => {
      for (const id of ['chart-time', 'chart-passes', 'chart-acceptance']) {
        expect(await painted(page, id), id).toBeGreaterThan(1000);
      }
      await page.getByTestId('chart-passes').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(SHOTS, 'charts.png') });
    });

    it('exports the summary and the step log as CSV', async () => {
      const [summary] = await Promise.all([
        page.waitForEvent('download'),
        page.getByTestId('export-summary').click(),
      ]);
      const sumRows = parse(readFileSync(await summary.path(), 'utf8'), { columns: true }) as Array<
        Record<string, string>
      >;
      expect(sumRows).toHaveLength(7);
      // the same header as the CLI's --csv (test/integration/cli.test.ts)
      const header = readFileSync(await summary.path(), 'utf8').split('\n')[0];
      expect(header).toBe(RUN_CSV_COLUMNS.join(','));
      expect(sumRows[0]!.prompt).toBe(await page.getByTestId('prompt-input').inputValue());
      expect(sumRows.filter((r) => r.mode === 'speculative').map((r) => r.k)).toEqual([
        '1',
        '2',
        '3',
        '4',
        '5',
        '8',
      ]);
      expect(sumRows.every((r) => r.identical === 'true')).toBe(true);
      const [steps] = await Promise.all([
        page.waitForEvent('download'),
        page.getByTestId('export-steps').click(),
      ]);
      const stepRows = parse(readFileSync(await steps.path(), 'utf8'), { columns: true }) as Array<
        Record<string, string>
      >;
      expect(stepRows.length).toBeGreaterThan(10);
      expect(stepRows.some((r) => r.type === 'emit')).toBe(true);
      // the step log names its run as the summary does
      expect(stepRows[0]!.prompt).toBe(sumRows[0]!.prompt);
      expect(stepRows[0]!.target).toBe(sumRows[0]!.target);
      expect(stepRows[0]!.mode).toMatch(/baseline|speculative/);
    });

    it('cancels mid-run and keeps the finished rows', async () => {
      await runSweep(page, 300, [1, 2, 3, 4, 5, 6, 7, 8]);
      await expect.poll(() => resultRows(page), { timeout: 120_000 }).toBeGreaterThanOrEqual(1);
      await page.getByTestId('cancel-button').click();
      await idle(page);
      // once the cancel is complete the button says Cancel again (it stayed "Cancelling...")
      expect((await page.getByTestId('cancel-button').textContent())!.trim()).toBe('Cancel');
      const kept = await resultRows(page);
      expect(kept).toBeGreaterThanOrEqual(1);
      expect(kept).toBeLessThan(9);
    });

    it('says so when the engine dies, keeps finished rows, and runs again on a fresh engine', async () => {
      await runSweep(page, 300, [1, 2, 3, 4, 5, 6, 7, 8]);
      await expect.poll(() => resultRows(page), { timeout: 120_000 }).toBeGreaterThanOrEqual(1);
      await server.killHost();
      await page.getByTestId('host-exit-banner').waitFor({ state: 'visible' });
      expect(await resultRows(page)).toBeGreaterThanOrEqual(1);
      await page.screenshot({ path: join(SHOTS, 'engine-stopped.png') });
      await idle(page);
      await runSweep(page, 20, [2]);
      await expect.poll(() => resultRows(page), { timeout: 120_000 }).toBe(2);
      await idle(page);
    });

    it('finds earlier runs in History after a reload', async () => {
      await page.reload();
      const items = page.getByTestId('history-item');
      await expect.poll(() => items.count()).toBeGreaterThanOrEqual(3);
      await items.last().click();
      await expect.poll(() => resultRows(page)).toBe(7);
    });

    it('stays smooth while a long run streams: no long task over 100 ms', async () => {
      await watchLongTasks(page);
      await runSweep(page, 440, [4]);
      await expect.poll(() => resultRows(page), { timeout: 180_000 }).toBe(2);
      await idle(page);
      const tasks = await longTasks(page);
      expect(Math.max(0, ...tasks)).toBeLessThan(100);
    });
  },
);
