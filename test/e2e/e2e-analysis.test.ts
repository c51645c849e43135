/**
 * The analysis panel end to end in real Chromium against `serve`, on the embedded pair: a small
 * sweep, the five answers with the same best K as the results table, the Markdown export with the
 * charts embedded as PNG data URIs, and the panel for a sweep opened from History.
 * Screenshot: test-results/screenshots/analysis.png (docs/screenshots with UPDATE_SCREENSHOTS=1).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chromiumMissing,
  idle,
  openApp,
  pressRun,
  resultRows,
  setKs,
  SHOTS,
  type BrowserApp,
  verdictOnScreen,
} from '../support/browserApp';

const missing = chromiumMissing;

const HEADINGS = [
  '1. Impact of K on target model passes',
  '2. Impact of K on wall-clock time',
  '3. Impact of K on average accepted tokens',
  '4. Trade-offs of K',
  '5. Comparison to baseline',
];

let app: BrowserApp;
let page: Page;

beforeAll(async () => {
  if (missing) return;
  app = await openApp('e2e-analysis');
  ({ page } = app);
});

afterAll(async () => {
  await app?.close();
});

/** The panel's five questions: their headings and answers. */
async function questions(): Promise<Array<{ id: string; heading: string; answer: string }>> {
  return page.getByTestId('analysis-question').evaluateAll((els) =>
    els.map((el) => ({
      id: el.getAttribute('data-question') ?? '',
      heading: el.querySelector('h3')?.textContent?.trim() ?? '',
      answer: el.querySelector('[data-testid="analysis-answer"]')?.textContent?.trim() ?? '',
    })),
  );
}

describe.skipIf(missing !== null)(
  `the analysis panel in Chromium${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    it('answers the five questions from a finished sweep, with the best K of the results table', async () => {
      await expect.poll(() => page.getByTestId('run-button').isEnabled()).toBe(true);
      await expect(page.getByTestId('analysis-panel').count()).resolves.toBe(0);
      await page.getByTestId('repeats-input').fill('1');
      await page.getByTestId('max-new-tokens-input').fill('24');
      await setKs(page, [1, 2, 3]);
      await pressRun(page);
      await expect.poll(() => resultRows(page), { timeout: 120_000 }).toBe(4);
      await idle(page);
      // the theory arrives with sweep-done, after the cost ratio is measured
      await page.getByTestId('analysis-predicted-k').waitFor({ state: 'visible' });

      const panel = page.getByTestId('analysis-panel');
      await panel.waitFor({ state: 'visible' });
      const qs = await questions();
      expect(qs.map((q) => q.id)).toEqual(['passes', 'time', 'accepted', 'tradeoffs', 'baseline']);
      expect(qs.map((q) => q.heading)).toEqual(HEADINGS);
      for (const q of qs) expect(q.answer.length, q.id).toBeGreaterThan(20);

      const verdict = await verdictOnScreen(page);
      const bestK = verdict.k;
      expect(bestK).toMatch(/^[123]$/);
      expect(await page.getByTestId('analysis-best-k').getAttribute('data-k')).toBe(bestK);
      const time = qs[1]!;
      const baseline = qs[4]!;
      expect(time.answer).toContain(`K=${bestK}`);
      if (verdict.beatBaseline)
        expect(baseline.answer).toMatch(
          new RegExp(`^The (best configuration|configuration with the best median), K=${bestK}\\b`),
        );
      else expect(baseline.answer).toMatch(/^No configuration beat the baseline/);
      // greedy on the embedded pair: lossless
      expect(await panel.textContent()).toContain("reproduced the baseline's tokens exactly");
      // a finished sweep has no notes about missing runs; the seed prompt's text loops, and
      // the notes say so
      const notes = page.getByTestId('analysis-notes');
      if ((await notes.count()) > 0) {
        expect(await notes.textContent()).not.toContain('Missing runs');
        expect(await notes.textContent()).toContain('falls into a 3-token cycle');
      }

      await page.getByTestId('analysis-panel').scrollIntoViewIfNeeded();
      await panel.screenshot({ path: join(SHOTS, 'analysis.png') });
    });

    it('exports the report as Markdown with the charts as PNG data URIs', async () => {
      const bestK = (await verdictOnScreen(page)).k;
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByTestId('analysis-export').click(),
      ]);
      expect(download.suggestedFilename()).toMatch(/^specdec-analysis-.*\.md$/);
      const md = readFileSync(await download.path(), 'utf8');
      for (const h of HEADINGS) expect(md).toContain(`## ${h}`);
      const images = [...md.matchAll(/!\[[^\]]*\]\((data:image\/png;base64,[A-Za-z0-9+/=]+)\)/g)];
      expect(images).toHaveLength(3);
      for (const [, uri] of images) {
        const png = Buffer.from(uri!.slice('data:image/png;base64,'.length), 'base64');
        // a PNG signature and more than a blank canvas' worth of data
        expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
        expect(png.length).toBeGreaterThan(5000);
      }
      expect(md).toContain(`K=${bestK}`);
      expect(md).toMatch(/^Best: /m);
      expect(md).toContain('| Configuration | Runs | Time (s) |');
    });

    it('analyses a sweep opened from History, and names what a cancelled sweep is missing', async () => {
      await page.getByTestId('repeats-input').fill('1');
      await page.getByTestId('max-new-tokens-input').fill('300');
      await setKs(page, [1, 2, 3, 4, 5, 6, 7, 8]);
      await pressRun(page);
      await expect.poll(() => resultRows(page), { timeout: 120_000 }).toBeGreaterThanOrEqual(2);
      await page.getByTestId('cancel-button').click();
      await idle(page);
      const notes = page.getByTestId('analysis-notes');
      await notes.waitFor({ state: 'visible' });
      expect(await notes.textContent()).toMatch(/cancelled after \d+ of 9 planned runs/);
      expect(await notes.textContent()).toContain('Missing runs:');
      expect(await notes.textContent()).toContain('K=8 (0 of 1 run)');

      // the first sweep, from History: its own analysis again, without the cancelled one's notes
      const items = page.getByTestId('history-item');
      await expect.poll(() => items.count()).toBeGreaterThanOrEqual(2);
      await items.last().click();
      await expect.poll(() => resultRows(page)).toBe(4);
      await expect
        .poll(async () => (await page.getByTestId('analysis-notes').textContent()) ?? '')
        .not.toContain('cancelled');
      const bestK = (await verdictOnScreen(page)).k;
      expect(await page.getByTestId('analysis-best-k').getAttribute('data-k')).toBe(bestK);
      expect((await questions()).map((q) => q.heading)).toEqual(HEADINGS);
    });
  },
);
