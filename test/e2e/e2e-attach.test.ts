/**
 * Two tabs on one `serve` (issue 31): a tab opened while a sweep runs shows that sweep (progress,
 * stream, Cancel) instead of being turned away, and Run pressed in a tab while another tab's
 * sweep runs shows that sweep. Cancel from any tab stops it for all.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, openApp, runSweep, SHOTS, type BrowserApp } from '../support/browserApp';

const missing = chromiumMissing;
let app: BrowserApp;

beforeAll(async () => {
  if (missing) return;
  app = await openApp('e2e-attach');
});
afterAll(async () => {
  await app?.close();
});

async function openTab(): Promise<Page> {
  const page = await app.browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(60_000);
  await page.goto(app.server.url);
  return page;
}

const progressOf = (page: Page) => page.getByTestId('progress');

describe.skipIf(missing)('a second tab while a sweep runs', () => {
  it('shows the running sweep with its progress, stream and Cancel', async () => {
    const first = app.page;
    const early = await openTab(); // open before the sweep: Run here will meet it
    await expect.poll(() => early.getByTestId('run-button').isEnabled()).toBe(true);

    // long enough to be running throughout; it is cancelled below
    await runSweep(first, 60, [1, 2, 3, 4, 5, 6], 10);
    const requestId = await progressOf(first).getAttribute('data-request');
    await expect.poll(() => first.getByTestId('token').count()).toBeGreaterThan(0);

    // a tab opened now follows the running sweep
    const late = await openTab();
    await expect.poll(() => progressOf(late).getAttribute('data-request')).toBe(requestId);
    await expect(progressOf(late).getAttribute('data-status')).resolves.toBe('running');
    await expect(late.getByTestId('progress-joined').textContent()).resolves.toContain(
      'started before this window opened',
    );
    await expect.poll(() => late.getByTestId('token').count()).toBeGreaterThan(0);
    await expect.poll(() => late.getByTestId('progress-tokens').count()).toBe(1);
    expect(await late.getByTestId('cancel-button').isEnabled()).toBe(true);
    expect(await late.getByTestId('run-button').isEnabled()).toBe(false);
    await late.screenshot({ path: `${SHOTS}/attach-second-tab.png` });

    // Run in a tab that was open before: it is shown the running sweep, not "busy"
    await early.getByTestId('run-button').click();
    await expect.poll(() => progressOf(early).getAttribute('data-request')).toBe(requestId);
    await expect(early.getByTestId('progress-joined').textContent()).resolves.toContain(
      'yours was not started',
    );
    expect(await early.getByTestId('error-banner').count()).toBe(0);
    await expect.poll(() => early.getByTestId('token').count()).toBeGreaterThan(0);

    // Cancel from the late tab stops the sweep everywhere
    await late.getByTestId('cancel-button').click();
    for (const page of [first, early, late]) {
      await expect
        .poll(() => progressOf(page).getAttribute('data-status'), { timeout: 120_000 })
        .toBe('cancelled');
    }
    await early.close();
    await late.close();
  });
});
