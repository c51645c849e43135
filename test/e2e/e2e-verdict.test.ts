/**
 * One verdict on every surface (issue 31), end to end in real Chromium against `serve` on the
 * embedded pair: the line under Time vs K, the star on the chart, the table's sentence and badge,
 * the race's default and the history card all name the same configuration, whatever the
 * machine's timings made of the sweep (a best that beat the baseline, or none).
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, idle, openApp, runSweep, type BrowserApp } from '../support/browserApp';

let app: BrowserApp;
let page: Page;

beforeAll(async () => {
  if (chromiumMissing) return;
  app = await openApp('e2e-verdict');
  ({ page } = app);
});

afterAll(async () => {
  await app?.close();
});

const text = async (testid: string): Promise<string> =>
  ((await page.getByTestId(testid).first().textContent()) ?? '').replace(/\s+/g, ' ').trim();

describe.skipIf(chromiumMissing)('the verdict in Chromium', () => {
  it('the time line, the chart, the table, the race and the history card agree', async () => {
    // the seed prompt's loop: speculation pays, and 3 repeats measure the noise
    await runSweep(page, 120, [1, 2, 4], 3);
    await idle(page);

    const line = await text('time-best');
    expect(line).toMatch(/^Best K: /);
    const none = /^Best K: No configuration beat the baseline: the fastest, (K=\d+) \(/.exec(line);
    const won = /^Best K: (K=\d+) \(/.exec(line);
    const label = (none ?? won)?.[1];
    expect(label, line).toBeDefined();

    // the table says the same sentence, and badges the row only when it beat the baseline
    expect(await text('best-sentence')).toBe(`Best: ${line.slice('Best K: '.length)}`);
    const badges = page.getByTestId('best-k-row');
    if (none) expect(await badges.count()).toBe(0);
    else expect(await badges.getAttribute('data-label')).toBe(label);

    // the star on Time vs K
    const series = (await page.getByTestId('chart-time').getAttribute('data-series')) ?? '';
    expect(series.split('|')).toContain(
      none ? `Fastest: ${label} (none beat the baseline)` : `Best: ${label}`,
    );

    // the race's default: the baseline's median run against the verdict's
    await page.getByTestId('race').scrollIntoViewIfNeeded();
    expect(await text('race-default')).toContain(`against ${label}'s median run`);

    // the history card of the saved sweep
    await page.getByTestId('history-list').scrollIntoViewIfNeeded();
    await expect
      .poll(() => page.getByTestId('history-best').first().textContent(), { timeout: 30_000 })
      .toContain(label!);
    const card = await text('history-best');
    if (none) expect(card).toContain('none beat the baseline');
    else expect(card).toMatch(new RegExp(`^best ${label}, `));
  });
});
