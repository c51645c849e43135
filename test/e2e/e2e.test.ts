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
import { SUMMARY_CSV_COLUMNS } from '../../src/results/summaryCsv';
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
  verdictOnScreen,
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
      // the badge is the verdict's, when it beat the baseline
      await verdictOnScreen(page);
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
      // the charts card from its title, below the toolbar, at 1440x900
      await page.setViewportSize({ width: 1440, height: 900 });
      await page.locator('#charts-title').evaluate((el) => {
        el.scrollIntoView({ block: 'start' });
        window.scrollBy(0, -(document.querySelector('.top')?.clientHeight ?? 60) - 12);
      });
      await page.screenshot({ path: join(SHOTS, 'charts.png') });
      await page.setViewportSize({ width: 1280, height: 900 });
    });

    it('exports the table, the runs and the step log as CSV', async () => {
      // the table: one row per configuration, the exercise's columns (the CLI's --summary-csv)
      const [table] = await Promise.all([
        page.waitForEvent('download'),
        page.getByTestId('export-table').click(),
      ]);
      expect(table.suggestedFilename()).toMatch(/^specdec-table-.+\.csv$/);
      const tableText = readFileSync(await table.path(), 'utf8');
      expect(tableText.split('\n')[0]).toBe(SUMMARY_CSV_COLUMNS.join(','));
      const tableRows = parse(tableText, { columns: true }) as Array<Record<string, string>>;
      expect(tableRows.map((r) => r.K)).toEqual(['', '1', '2', '3', '4', '5', '8']);
      expect(tableRows.every((r) => r.Identical === 'yes')).toBe(true);
      expect(tableRows.every((r) => r['Output Text Sample']!.length > 0)).toBe(true);
      // the same medians as the table on screen
      const shownTime = async (k: string): Promise<string> =>
        (await page
          .getByTestId('results-table')
          .locator(`tr[data-k="${k}"] td`)
          .first()
          .textContent())!
          .trim()
          .split(/\s/)[0]!;
      expect(Number(tableRows[2]!['Time Median (s)']).toFixed(3)).toBe(await shownTime('2'));

      // the runs: one row per run, every metric (the CLI's --csv)
      const [summary] = await Promise.all([
        page.waitForEvent('download'),
        page.getByTestId('export-runs').click(),
      ]);
      expect(summary.suggestedFilename()).toMatch(/^specdec-runs-.+\.csv$/);
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

    it('with repeats: ranges only where runs differ, pickers by configuration, theory readable', async () => {
      await runSweep(page, 60, [1, 2, 3], 3);
      await idle(page);
      expect(await resultRows(page)).toBe(4);
      const table = page.getByTestId('results-table');
      // a min-max line only where the runs' values differ: greedy decoding makes the same
      // number of target passes in every repeat, so that column has none
      const ranges = await table.locator('.range').allTextContents();
      expect(ranges.length).toBeGreaterThan(0);
      for (const range of ranges) {
        const [min, max] = range.split('–');
        expect(min, range).not.toBe(max);
      }
      expect(await table.locator('tbody tr td:nth-of-type(2) .range').count()).toBe(0);

      // the pickers list one group per configuration, named after this window's sweep (it has
      // run two), the repeats inside
      const groupsOf = (testid: string): Promise<Array<[string, string[]]>> =>
        page
          .getByTestId(testid)
          .locator('optgroup')
          .evaluateAll((groups) =>
            groups.map((g) => [
              g.getAttribute('label') ?? '',
              [...g.querySelectorAll('option')].map((o) => o.textContent?.trim() ?? ''),
            ]),
          );
      for (const testid of ['run-select', 'race-left', 'race-right']) {
        const latest = (await groupsOf(testid)).slice(-4);
        expect(latest.map(([label]) => label.replace(/^Sweep \d+ \([^)]*\) · /, ''))).toEqual([
          'Baseline',
          'K=1',
          'K=2',
          'K=3',
        ]);
        expect(latest[2]![1]).toEqual(['K=2, repeat 1', 'K=2, repeat 2', 'K=2, repeat 3']);
      }

      // Analysis comes right after the results, before History
      const order = await page
        .locator('main > *')
        .evaluateAll((els) =>
          els.map((e) =>
            e.querySelector('#results-title')
              ? 'results'
              : e.matches('[data-testid="analysis-panel"]')
                ? 'analysis'
                : e.querySelector('#history-title')
                  ? 'history'
                  : '',
          ),
        );
      const named = order.filter((n) => n !== '');
      expect(named).toEqual(['results', 'analysis', 'history']);

      // the theory chart: speedup only, measured against predicted, its numbers beside it
      const theory = page.getByTestId('chart-theory');
      await theory.scrollIntoViewIfNeeded();
      await expect.poll(() => painted(page, 'chart-theory')).toBeGreaterThan(1000);
      const series = (await theory.getAttribute('data-series'))!.split('|');
      expect(series.slice(0, 2)).toEqual(['Measured speedup', 'Predicted (Leviathan)']);
      expect(series.at(-1)).toBe('Baseline (1x)');
      expect(await page.getByTestId('theory-row').count()).toBe(3);

      for (const [width, height] of [
        [1440, 900],
        [1024, 700],
      ] as const) {
        await page.setViewportSize({ width, height });
        // the figure takes its row, the numbers beside the chart (not two thirds empty)
        const figure = (await page.locator('figure.theory').boundingBox())!;
        const grid = (await page.locator('.charts .grid').boundingBox())!;
        expect(figure.width).toBeGreaterThan(grid.width - 2);
        const plot = (await theory.boundingBox())!;
        const facts = (await page.getByTestId('theory-summary').boundingBox())!;
        expect(facts.x, `theory summary beside the chart at ${width}`).toBeGreaterThan(
          plot.x + plot.width - 1,
        );
        await page
          .locator('figure.theory')
          .screenshot({ path: join(SHOTS, `theory-${width}.png`) });
        await table.scrollIntoViewIfNeeded();
        await page
          .locator('section', { has: page.locator('#results-title') })
          .screenshot({ path: join(SHOTS, `results-${width}.png`) });
        // a native list does not open in a screenshot: drawn as a list box to show the groups
        const select = page.getByTestId('run-select');
        await select.evaluate((el) => {
          el.setAttribute('size', '24');
          el.style.position = 'relative';
          el.style.zIndex = '30';
          el.scrollIntoView({ block: 'center' });
        });
        await select.screenshot({ path: join(SHOTS, `run-picker-${width}.png`) });
        await select.evaluate((el) => {
          el.removeAttribute('size');
          el.removeAttribute('style');
        });
      }
      await page.setViewportSize({ width: 1280, height: 900 });
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
