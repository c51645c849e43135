/**
 * The app in real Chromium against `serve`, for the end-to-end tests: one set-up (server on the
 * embedded pair, a fresh data folder, headless Chromium) and the few steps every test repeats.
 * Screenshots go to test-results/screenshots; with UPDATE_SCREENSHOTS=1 to docs/screenshots,
 * which the README shows.
 */
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { startServer, type RunningServer, type ServeOptions } from '../../src/cli/serve';
import { PAIR_DRAFT, PAIR_TARGET, ROOT } from './helpers';
import { setKs } from './pageSteps';

export { longTasks, setKs, watchLongTasks } from './pageSteps';

const CHROMIUM = '/usr/bin/chromium';

/** why the browser tests cannot run here, or null */
export const chromiumMissing = existsSync(CHROMIUM)
  ? null
  : `Chromium not found at ${CHROMIUM} (apt-get install -y chromium)`;

export const SHOTS = process.env.UPDATE_SCREENSHOTS
  ? join(ROOT, 'docs', 'screenshots')
  : join(ROOT, 'test-results', 'screenshots');

export interface BrowserApp {
  server: RunningServer;
  /** the server's data folder (history/ holds the saved sweeps) */
  dataDir: string;
  browser: Browser;
  page: Page;
  close(): Promise<void>;
}

/** `serve` on the embedded pair with a fresh data folder, and a page open on it */
export async function openApp(
  name: string,
  extra: Partial<ServeOptions> = {},
): Promise<BrowserApp> {
  const dataDir = mkdtempSync(join(tmpdir(), `specdec-${name}-`));
  const server = await startServer({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    rendererDir: join(ROOT, 'out', 'renderer'),
    embeddedPair: { target: PAIR_TARGET, draft: PAIR_DRAFT },
    ...extra,
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const page = await browser.newPage({
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
  });
  page.setDefaultTimeout(60_000);
  await page.goto(server.url);
  mkdirSync(SHOTS, { recursive: true });
  return {
    server,
    dataDir,
    browser,
    page,
    close: async () => {
      await browser.close();
      await server.close();
    },
  };
}

/** rows of the results table, the best one included */
export const resultRows = (page: Page): Promise<number> =>
  page.locator('[data-testid="results-row"], [data-testid="best-k-row"]').count();

/** Start a sweep; one repeat unless asked (the app's default is 3), to keep the tests short. */
export async function runSweep(
  page: Page,
  maxNewTokens: number,
  ks: number[],
  repeats = 1,
): Promise<void> {
  await page.getByTestId('max-new-tokens-input').fill(String(maxNewTokens));
  await page.getByTestId('repeats-input').fill(String(repeats));
  await setKs(page, ks);
  await pressRun(page);
}

/**
 * Press Run and wait until the engine began the sweep (or refused it): the previous sweep stays
 * on screen until then, so what the caller reads next is this sweep's.
 */
export async function pressRun(page: Page): Promise<void> {
  const progress = page.getByTestId('progress');
  const before = (await progress.count()) > 0 ? await progress.getAttribute('data-request') : null;
  await page.getByTestId('run-button').click();
  await expect
    .poll(
      async () =>
        (await progress.count()) > 0 &&
        (await progress.getAttribute('data-request')) !== before &&
        ((await progress.getAttribute('data-begun')) === 'true' ||
          (await progress.getAttribute('data-status')) !== 'running'),
      { timeout: 120_000 },
    )
    .toBe(true);
}

/** until Run can be pressed again */
export const idle = (page: Page): Promise<void> =>
  expect.poll(() => page.getByTestId('run-button').isEnabled(), { timeout: 120_000 }).toBe(true);

/** non-transparent pixels of a chart's canvas (the element, or the canvas inside it) */
export function painted(page: Page, testid: string): Promise<number> {
  return page.getByTestId(testid).evaluate((el) => {
    const canvas = el instanceof HTMLCanvasElement ? el : el.querySelector('canvas')!;
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++;
    return n;
  });
}

/**
 * The verdict as the app shows it (the line under Time vs K), checked against the table's badge:
 * the badged row is the verdict's when it beat the baseline, and there is none when it did not.
 * Which one a sweep gets depends on the machine's timings, so tests read it rather than assume it.
 */
export async function verdictOnScreen(
  page: Page,
): Promise<{ k: string; label: string; beatBaseline: boolean }> {
  const line = ((await page.getByTestId('time-best').textContent()) ?? '').trim();
  const m = /^Best K: (No configuration beat the baseline: the fastest, )?(K=(\d+)[^(]*?) \(/.exec(
    line,
  );
  expect(m, line).not.toBeNull();
  const [, none, label, k] = m!;
  const badges = page.getByTestId('best-k-row');
  if (none) {
    expect(await badges.count()).toBe(0);
  } else {
    expect(await badges.count()).toBe(1);
    expect(await badges.getAttribute('data-label')).toBe(label);
  }
  return { k: k!, label: label!, beatBaseline: !none };
}
