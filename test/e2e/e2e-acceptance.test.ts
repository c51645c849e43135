/**
 * End to end in real Chromium against `serve`, on the embedded pair: controlled acceptance from
 * the app (issue 34). The targets are refused at their control with the engine's reasons
 * (sampling, prompt lookup, the confidence policy); a small sweep over two alphas and three Ks
 * draws the K x alpha heat map (its cells, the best K per alpha, the theory beside it, the pair's
 * own alpha from an earlier real sweep), the chosen run's histogram of accepted tokens per step
 * (its total is the run's verification steps) and acceptance by position, and the time split
 * per configuration. Screenshots at 1440x900 and 1024x700 go to test-results/screenshots.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chromiumMissing,
  idle,
  openApp,
  pressRun,
  resultRows,
  runSweep,
  setKs,
  SHOTS,
  type BrowserApp,
} from '../support/browserApp';

const missing = chromiumMissing;

const ALPHAS = [0.5, 0.9];
const KS = [1, 2, 4];

let app: BrowserApp;
let page: Page;

beforeAll(async () => {
  if (missing) return;
  app = await openApp('e2e-acceptance');
  ({ page } = app);
});

afterAll(async () => {
  await app?.close();
});

async function addAcceptance(targets: string): Promise<void> {
  await page.getByTestId('acceptance-add-input').fill(targets);
  await page.getByTestId('acceptance-add-button').click();
}

/** the cells of one heat map grid: alpha, K, value, best */
function gridCells(
  kind: 'measured' | 'predicted',
): Promise<Array<{ alpha: number; k: number; value: number | null; best: boolean }>> {
  return page
    .getByTestId(`grid-${kind}`)
    .getByTestId('grid-cell')
    .evaluateAll((els) =>
      els.map((e) => ({
        alpha: Number(e.getAttribute('data-alpha')),
        k: Number(e.getAttribute('data-k')),
        value: e.getAttribute('data-value') === '' ? null : Number(e.getAttribute('data-value')),
        best: e.getAttribute('data-best') === 'true',
      })),
    );
}

const json = async (page: Page, testid: string, attr: string): Promise<unknown> =>
  JSON.parse((await page.getByTestId(testid).getAttribute(attr)) ?? 'null');

describe.skipIf(missing !== null)(
  `controlled acceptance in Chromium${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    it('refuses acceptance targets with sampling, prompt lookup or the confidence policy, at the control', async () => {
      await expect.poll(() => page.getByTestId('run-button').isEnabled()).toBe(true);
      await addAcceptance('1.2');
      expect(await page.getByTestId('acceptance-message').textContent()).toMatch(
        /between 0 and 1, both excluded \(got 1\.2\)/,
      );
      await addAcceptance('0.8, 0.8');
      expect(await page.getByTestId('acceptance-message').textContent()).toMatch(
        /0\.8 is already in the list/,
      );
      await addAcceptance('0.8');
      await page.getByTestId('acceptance-chip-0.8').waitFor();
      expect(await page.getByTestId('acceptance-error').count()).toBe(0);

      const control = page.getByTestId('acceptance-control');
      const error = page.getByTestId('acceptance-error');
      await page.getByTestId('decoding-sampling').check();
      expect(await error.textContent()).toMatch(/needs greedy decoding.*Choose Greedy/);
      expect(await control.getAttribute('aria-describedby')).toContain('acceptance-error');
      expect(await page.getByTestId('run-button').isEnabled()).toBe(false);
      expect(await page.getByTestId('run-off-reason').textContent()).toContain(
        'Controlled acceptance',
      );
      await control.scrollIntoViewIfNeeded();
      await control.screenshot({ path: join(SHOTS, 'acceptance-refused.png') });
      await page.getByTestId('decoding-greedy').check();
      await page.getByTestId('drafter-prompt-lookup').check();
      expect(await error.textContent()).toMatch(/prompt lookup makes no draft-model passes/);
      await page.getByTestId('drafter-prompt-lookup').uncheck();
      await page.getByTestId('policy-confidence').check();
      expect(await error.textContent()).toMatch(/confidence policy/);
      await page.getByTestId('policy-confidence').uncheck();
      await expect.poll(() => error.count()).toBe(0);
      expect(await page.getByTestId('run-button').isEnabled()).toBe(true);
      // removing the targets is the other way out
      await page.getByTestId('decoding-sampling').check();
      await page.getByRole('button', { name: 'Remove acceptance 0.8' }).click();
      await expect.poll(() => error.count()).toBe(0);
      await page.getByTestId('decoding-greedy').check();
    });

    it('sweeps K x alpha: heat map, best K per alpha, the pair placed, histogram and time split', async () => {
      // a real sweep first: it measures the pair's own alpha (K=1), which the map places
      await runSweep(page, 24, [1]);
      await idle(page);
      expect(await resultRows(page)).toBe(2);
      expect(await page.getByTestId('acceptance-grid').count()).toBe(0);

      await setKs(page, KS);
      await addAcceptance(ALPHAS.join(', '));
      await pressRun(page);
      await expect
        .poll(() => resultRows(page), { timeout: 180_000 })
        .toBe(1 + ALPHAS.length * KS.length);
      await idle(page);
      const labels = await page
        .locator('[data-testid="results-row"], [data-testid="best-k-row"]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-label')));
      expect(labels).toContain('K=4 alpha 0.9');
      // the table names each configuration's target in a column of its own
      const table = page.getByTestId('results-table');
      expect(await table.locator('thead th').allTextContents()).toContain('Acceptance Target');
      expect(await table.locator('[data-label="K=4 alpha 0.9"] td').first().textContent()).toMatch(
        /^\s*0\.9\s*$/,
      );

      // the heat map: one cell per (alpha, K), each measured; one best per alpha, the fastest
      const grid = page.getByTestId('acceptance-grid');
      await grid.waitFor();
      const measured = await gridCells('measured');
      expect(measured).toHaveLength(ALPHAS.length * KS.length);
      for (const alpha of ALPHAS) {
        const row = measured.filter((c) => c.alpha === alpha);
        expect(row.map((c) => c.k).sort((a, b) => a - b)).toEqual(KS);
        expect(row.every((c) => c.value !== null && c.value > 0)).toBe(true);
        const best = row.filter((c) => c.best);
        expect(best).toHaveLength(1);
        expect(best[0]!.value).toBe(Math.max(...row.map((c) => c.value!)));
        const sentence = grid.locator(
          `[data-testid="grid-best-per-alpha"] li[data-alpha="${alpha}"]`,
        );
        expect(await sentence.getAttribute('data-best-k')).toBe(String(best[0]!.k));
        expect(await sentence.textContent()).toMatch(
          new RegExp(`^At alpha ${alpha} on this machine, .*K=${best[0]!.k} \\(`),
        );
      }
      // the theory beside it, from the pair's measured costs (the sweep has no real K=1 run)
      const predicted = await gridCells('predicted');
      expect(predicted).toHaveLength(ALPHAS.length * KS.length);
      expect(predicted.every((c) => c.value !== null && c.value > 0)).toBe(true);
      for (const alpha of ALPHAS)
        expect(predicted.filter((c) => c.alpha === alpha && c.best)).toHaveLength(1);
      // at a higher alpha more drafts are accepted, so the theory never predicts less
      for (const k of KS) {
        const at = (a: number): number => predicted.find((c) => c.alpha === a && c.k === k)!.value!;
        expect(at(0.9)).toBeGreaterThan(at(0.5));
      }
      // the pair's own alpha: the oracle's count of the draft model's own tokens in this sweep
      expect(await grid.getByTestId('grid-pair').textContent()).toMatch(
        /^\s*Your pair sits at alpha/,
      );
      expect(await grid.getByTestId('grid-pair-marker').count()).toBe(2);

      // the chosen run (the last to stream: K=4 at alpha 0.9): its histogram totals its steps
      const metrics = page.getByTestId('run-metrics');
      await expect.poll(() => metrics.getByTestId('run-histogram').count()).toBe(1);
      expect(await metrics.locator('h2').textContent()).toContain('K=4 alpha 0.9');
      const steps = Number(await page.getByTestId('run-verification-steps').textContent());
      expect(steps).toBeGreaterThan(0);
      expect(Number(await page.getByTestId('run-histogram').getAttribute('data-total'))).toBe(
        steps,
      );
      const histogram = (await json(page, 'run-histogram-chart', 'data-values')) as number[][];
      expect(histogram[0]).toHaveLength(4 + 1);
      expect(histogram[0]!.reduce((n, c) => n + c, 0)).toBe(steps);
      const positions = (await json(page, 'run-position-chart', 'data-values')) as number[][];
      expect(positions[0]).toHaveLength(4);
      // a token is accepted only after every token before it
      for (let i = 1; i < 4; i++)
        expect(positions[0]![i]!).toBeLessThanOrEqual(positions[0]![i - 1]!);
      expect(await page.getByTestId('run-mean-acceptance-length').textContent()).toMatch(
        /1 \+ \d+ \/ \d+ steps/,
      );

      // another run chosen in the selector: its own numbers
      const select = page.getByTestId('run-select');
      const value = await select
        .locator('option', { hasText: 'K=2 alpha 0.5' })
        .getAttribute('value');
      await select.selectOption(value!);
      await expect.poll(() => metrics.locator('h2').textContent()).toContain('K=2 alpha 0.5');
      const steps2 = Number(await page.getByTestId('run-verification-steps').textContent());
      await expect
        .poll(
          async () => ((await json(page, 'run-histogram-chart', 'data-values')) as number[][])[0],
        )
        .toHaveLength(3);
      const histogram2 = (await json(page, 'run-histogram-chart', 'data-values')) as number[][];
      expect(histogram2[0]!.reduce((n, c) => n + c, 0)).toBe(steps2);

      // where the time goes: a stacked bar per configuration, the baseline's included
      const split = page.getByTestId('time-split');
      expect(Number(await split.getAttribute('data-bars'))).toBe(1 + ALPHAS.length * KS.length);
      expect(await page.getByTestId('time-split-chart').getAttribute('data-series')).toMatch(
        /^Draft passes\|Target passes\|Other/,
      );
      const parts = (await json(page, 'time-split-chart', 'data-values')) as number[][];
      const barLabels = (await json(page, 'time-split-chart', 'data-labels')) as string[];
      expect(barLabels[0]).toBe('Baseline');
      // the baseline makes no draft pass
      expect(parts[0]![0]).toBe(0);
      expect(parts[1]!.every((t) => t > 0)).toBe(true);

      for (const [width, height] of [
        [1440, 900],
        [1024, 700],
      ] as const) {
        await page.setViewportSize({ width, height });
        for (const [testid, name] of [
          ['acceptance-grid', 'acceptance-heatmap'],
          ['run-metrics', 'run-histogram'],
          ['time-split', 'time-split'],
          ['time-card', 'time-acceptance'],
        ] as const) {
          const el = page.getByTestId(testid);
          await el.scrollIntoViewIfNeeded();
          await el.screenshot({ path: join(SHOTS, `${name}-${width}.png`) });
        }
        // the results as the window shows them: the map above the table
        await page
          .locator('#results-title')
          .evaluate((el) => el.scrollIntoView({ block: 'start' }));
        await page.screenshot({ path: join(SHOTS, `results-acceptance-${width}.png`) });
      }
    });

    it('opens the saved sweep from History with its map, its theory (the saved costs) and the pair placed from its own runs', async () => {
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.reload();
      const entries = page.getByTestId('history-entry');
      await expect.poll(() => entries.count(), { timeout: 60_000 }).toBe(2);
      // newest first: the controlled sweep, then the real K=1 sweep; the card names its targets
      expect(await entries.first().getByTestId('history-acceptance').textContent()).toBe(
        `acceptance A = ${ALPHAS.join(', ')}`,
      );
      expect(await entries.last().getByTestId('history-acceptance').count()).toBe(0);
      await entries.first().scrollIntoViewIfNeeded();
      await entries.first().screenshot({ path: join(SHOTS, 'history-acceptance-card.png') });
      await entries.first().getByTestId('history-item').click();
      const grid = page.getByTestId('acceptance-grid');
      await grid.waitFor();
      expect(await gridCells('measured')).toHaveLength(ALPHAS.length * KS.length);
      const predicted = await gridCells('predicted');
      expect(predicted.every((c) => c.value !== null && c.value > 0)).toBe(true);
      // a fresh page has seen no other sweep of this pair: the saved runs' own count places it
      // (the draft model's tokens against the target's, behind the oracle)
      expect(await grid.getByTestId('grid-pair').textContent()).toMatch(
        /^\s*Your pair sits at alpha [\d.]+ \(the draft model's own tokens against the target's, behind the oracle/,
      );
      expect(await grid.getByTestId('grid-pair-marker').count()).toBe(2);

      await entries.last().getByTestId('history-item').click();
      await expect.poll(() => resultRows(page)).toBe(2);
      expect(await page.getByTestId('acceptance-grid').count()).toBe(0);
      await entries.first().getByTestId('history-item').click();
      await expect
        .poll(() => page.getByTestId('grid-pair').textContent())
        .toMatch(/^\s*Your pair sits at alpha/);
    });
  },
);
