/**
 * Steps on the app's page that need only Playwright (no test runner): shared by the end-to-end
 * tests (through test/support/browserApp.ts) and tools/bench-app.ts.
 */
import type { Page } from 'playwright-core';

/** Replace the K chips with `ks`. */
export async function setKs(page: Page, ks: number[]): Promise<void> {
  const chips = page.locator('[data-testid^="k-chip-"]');
  while ((await chips.count()) > 0) await chips.first().getByRole('button').click();
  await page.getByTestId('k-add-input').fill(ks.join(', '));
  await page.getByTestId('k-add-button').click();
}

/** Start recording the page's long tasks (over 50 ms); `longTasks` reads them. */
export async function watchLongTasks(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { longTasks: number[] };
    w.longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.longTasks.push(e.duration);
    }).observe({ type: 'longtask', buffered: false });
  });
}

/** the durations (ms) of the long tasks since watchLongTasks */
export const longTasks = (page: Page): Promise<number[]> =>
  page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
