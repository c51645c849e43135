/**
 * Hub models end to end in real Chromium against `serve`, with a local stand-in for the Hub
 * (test/support/hubServer.ts) serving the embedded pair under repo ids: type the repo ids, download with
 * progress to 100%, run a sweep on the downloaded pair and see the provider, a sweep that
 * downloads shows the same progress, the seed pair button, offline mode without a cached model,
 * an unknown repo, and a cancelled download.
 * Screenshots go to test-results/screenshots; with UPDATE_SCREENSHOTS=1 to docs/screenshots.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatBytes } from '../../src/renderer/src/lib/downloadFormat';
import { PAIR_DRAFT, PAIR_TARGET } from '../support/helpers';
import {
  chromiumMissing,
  idle,
  openApp,
  resultRows,
  runSweep,
  SHOTS,
  type BrowserApp,
} from '../support/browserApp';
import { providerUnavailable } from '../../src/core/model/executionProvider';
import { shortReason } from '../../src/core/model/providerProbe';
import { startHubServer, type HubServer } from '../support/hubServer';

const missing = chromiumMissing;

const TARGET = 'specdec/brown-target';
const DRAFT = 'specdec/brown-draft';
/** the same draft under another name: not cached when a sweep first asks for it */
const SWEEP_DRAFT = 'specdec/brown-draft-for-sweep';
/** the same target under another name, for the cancelled download */
const SLOW_TARGET = 'specdec/brown-target-slow';

let hub: HubServer;
let app: BrowserApp;
let page: Page;

beforeAll(async () => {
  if (missing) return;
  hub = await startHubServer({
    [TARGET]: PAIR_TARGET,
    [DRAFT]: PAIR_DRAFT,
    [SWEEP_DRAFT]: PAIR_DRAFT,
    [SLOW_TARGET]: PAIR_TARGET,
  });
  app = await openApp('e2e-hub', { hubHost: hub.url });
  ({ page } = app);
});

afterAll(async () => {
  await app?.close();
  await hub?.close();
});

const FILES = ['config.json', 'onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json'];
const folderBytes = (dir: string): number =>
  FILES.reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);

const text = async (testId: string): Promise<string> =>
  ((await page.getByTestId(testId).textContent()) ?? '').replace(/\s+/g, ' ').trim();
/** the download panel's status, or 'none' while it is not shown */
const panelStatus = (): Promise<string> =>
  page.evaluate(
    () =>
      document.querySelector('[data-testid="download-panel"]')?.getAttribute('data-status') ??
      'none',
  );
const bodyRequests = (repo: string): string[] =>
  hub.requests.filter((r) => r.startsWith(`GET /${repo}/`) && !r.endsWith('[range]'));

async function chooseHub(role: 'target' | 'draft', repo: string): Promise<void> {
  await page.getByTestId(`${role}-source-kind`).selectOption('hub');
  await page.getByTestId(`${role}-repo-input`).fill(repo);
}

describe.skipIf(missing !== null)(
  `Hub models in Chromium${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    it('downloads two typed repo ids with progress to 100%', async () => {
      await idle(page);
      // the embedded pair is the default; fp16 can be chosen
      expect(await page.getByTestId('target-source-kind').inputValue()).toBe('embedded');
      await expect.poll(() => text('target-embedded'), { timeout: 30_000 }).toContain('(embedded)');
      await chooseHub('target', TARGET);
      await chooseHub('draft', DRAFT);
      expect(await page.getByTestId('target-dtype-fp16').isDisabled()).toBe(false);
      expect(await page.getByTestId('target-dtype-fp16').getAttribute('title')).toMatch(
        /half the size/,
      );
      // different execution providers per model
      await page.getByTestId('draft-ep').selectOption('cpu');
      expect(await page.getByTestId('target-ep').inputValue()).toBe('auto');
      await expect.poll(() => text('cache-dir')).toMatch(/Downloads are cached in .*models/);

      await page.getByTestId('download-button').click();
      await expect.poll(panelStatus, { timeout: 120_000 }).toBe('done');
      const total = formatBytes(folderBytes(PAIR_TARGET) + folderBytes(PAIR_DRAFT));
      expect(await text('download-percent')).toBe('100%');
      expect(await text('download-bytes')).toBe(`${total} of ${total}`);
      expect(await text('download-status')).toBe(`Download finished: ${total} fetched.`);
      expect(await page.getByTestId('download-cancel').count()).toBe(0);
      expect(bodyRequests(TARGET).some((r) => r.includes('onnx/model.onnx'))).toBe(true);
      expect(bodyRequests(DRAFT).some((r) => r.includes('onnx/model.onnx'))).toBe(true);
      await page.getByTestId('download-panel').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(SHOTS, 'hub-download.png') });
    });

    it('runs a sweep on the downloaded pair from the cache and shows the providers', async () => {
      const before = hub.requests.length;
      await runSweep(page, 16, [1, 2]);
      await expect.poll(() => resultRows(page), { timeout: 120_000 }).toBe(3);
      await idle(page);
      expect(hub.requests.length).toBe(before); // cached: not a single request
      await expect.poll(() => text('loaded-target-name')).toBe(TARGET);
      expect(await text('loaded-draft-name')).toBe(DRAFT);
      expect(await text('loaded-target-provider')).toBe('cpu');
      expect(await text('loaded-draft-provider')).toBe('cpu');
      // small float32 models run as the fused rebuild of their graph on the CPU, and say so
      expect(await text('loaded-target-graph')).toBe(', fused');
      expect(await page.getByTestId('loaded-target-graph').getAttribute('title')).toMatch(
        /checked against the export/,
      );
      // the draft was asked for cpu: nothing was skipped for it
      expect(await page.getByTestId('loaded-draft-fallback').count()).toBe(0);
      // small models run on one thread each: nothing to say
      expect(await page.getByTestId('loaded-target-threads').count()).toBe(0);
      // the target on auto: one short line of reasons, each provider's details behind it
      const cuda = providerUnavailable('cuda');
      if (cuda) {
        expect(await text('loaded-target-fallback')).toContain(
          `cuda: ${shortReason('cuda', cuda)}`,
        );
      }
      expect((await page.getByTestId('loaded-models').boundingBox())!.height).toBeLessThan(120);
      await page.getByTestId('loaded-target-fallback').click();
      const trials = page.getByTestId('loaded-target-trial');
      expect(await trials.first().getAttribute('data-provider')).toBe('cpu');
      expect(await trials.first().textContent()).toMatch(/cpu\s*[\d.]+ ms a pass\s*in use/);
      await page.getByTestId('loaded-target-fallback').click();

      const [summary] = await Promise.all([
        page.waitForEvent('download'),
        page.getByTestId('export-runs').click(),
      ]);
      const csv = parse(readFileSync(await summary.path(), 'utf8'), { columns: true }) as Array<
        Record<string, string>
      >;
      expect(csv).toHaveLength(3);
      expect(csv.every((r) => r.targetProvider === 'cpu')).toBe(true);
      expect(csv.filter((r) => r.mode === 'speculative').map((r) => r.draftProvider)).toEqual([
        'cpu',
        'cpu',
      ]);
      await page.getByTestId('loaded-models').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(SHOTS, 'hub-sweep.png'), fullPage: true });
    });

    it('a sweep whose draft is not cached shows the same download progress', async () => {
      await page.getByTestId('draft-repo-input').fill(SWEEP_DRAFT);
      await runSweep(page, 16, [1]);
      await expect.poll(panelStatus, { timeout: 120_000 }).toBe('done');
      expect(await text('download-status')).toBe(
        `Download finished for the sweep: ${formatBytes(folderBytes(PAIR_DRAFT))} fetched.`,
      );
      expect(await text('download-percent')).toBe('100%');
      await expect.poll(() => resultRows(page), { timeout: 120_000 }).toBe(2);
      await idle(page);
      expect(await text('loaded-draft-name')).toBe(SWEEP_DRAFT);
    });

    it('the seed pair button picks gpt2 and gpt2-medium from the catalog', async () => {
      await page.getByTestId('seed-pair-button').click();
      expect(await page.getByTestId('target-catalog').inputValue()).toBe('gpt2-medium');
      expect(await page.getByTestId('draft-catalog').inputValue()).toBe('gpt2');
      expect(await page.getByTestId('target-repo-input').inputValue()).toBe('gpt2-medium');
      expect(await page.getByTestId('draft-repo-input').inputValue()).toBe('gpt2');
      // the catalog shows sizes per weight type, as the exports weigh (test/unit/catalog.test.ts)
      const label = await page
        .getByTestId('target-catalog')
        .locator('option:checked')
        .textContent();
      expect(label).toBe('gpt2-medium: 355M params, 24 layers, about 1.63 GB (fp32)');
      expect(await text('draft-catalog-info')).toBe(
        'gpt2 (Xenova/gpt2): 124M params, 12 layers, about 652.1 MB (fp32)',
      );
      // and what to expect of the pair before downloading it
      expect(await text('pair-outlook')).toMatch(
        /^Expected cost ratio c about 0\.35 \(gpt2 \/ gpt2-medium.*a small win on a CPU/,
      );
      // the estimate follows the weight type
      await page.getByTestId('draft-dtype').selectOption('q8');
      expect(await text('draft-catalog-info')).toBe(
        'gpt2 (Xenova/gpt2): 124M params, 12 layers, about 281.6 MB (q8)',
      );
      await page.getByTestId('draft-dtype').selectOption('fp32');
      await page.getByTestId('target-picker').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(SHOTS, 'hub-seed-pair.png') });
    });

    it('offline mode with a model that is not cached says so without a request', async () => {
      await page.getByTestId('target-repo-input').fill('specdec/other');
      await page.getByTestId('draft-repo-input').fill(DRAFT);
      await page.getByTestId('offline-checkbox').check();
      const before = hub.requests.length;
      await page.getByTestId('run-button').click();
      await page.getByTestId('error-banner').waitFor({ state: 'visible' });
      const message = await text('error-banner');
      expect(message).toContain('specdec/other (fp32) is not in the download cache');
      expect(message).toContain('offline mode is on');
      // from Run, the Hub's failure is under the model pair, as it is from Download (below)
      expect(await page.locator('#host-error-pair').count()).toBe(1);
      expect(await page.locator('#host-error-run').count()).toBe(0);
      await idle(page);
      expect(hub.requests.length).toBe(before);
      await page.screenshot({ path: join(SHOTS, 'hub-offline.png') });
    });

    it('an unknown repo id is refused as typed, and an unknown repo is named', async () => {
      await page.getByTestId('offline-checkbox').uncheck();
      await page.getByTestId('target-repo-input').fill('not a repo');
      expect(await text('target-source-error')).toMatch(/"not a repo" is not a Hub repo id/);
      expect(await page.getByTestId('download-button').isDisabled()).toBe(true);

      await page.getByTestId('target-repo-input').fill('nobody/no-such-model');
      await page.getByTestId('download-button').click();
      await expect.poll(panelStatus).toBe('failed');
      const message = await text('error-banner');
      expect(message).toContain('nobody/no-such-model was not found');
      expect(await page.locator('#host-error-pair').count()).toBe(1);
      // in the app's words: no flag or environment variable
      expect(message).not.toMatch(/--[a-z]|SPECDEC_|HF_TOKEN/);
      await idle(page);
    });

    it('cancels a slow download: it stops, says so, and leaves nothing spinning', async () => {
      hub.throttleBytesPerS = 2e6;
      try {
        await page.getByTestId('target-repo-input').fill(SLOW_TARGET);
        await page.getByTestId('download-button').click();
        expect(await page.getByTestId('run-button').isDisabled()).toBe(true);
        await expect.poll(() => text('download-file')).toContain(SLOW_TARGET);
        // some way in, but far from done (30 MB at 2 MB/s)
        await expect
          .poll(async () => parseInt(await text('download-percent'), 10), { timeout: 30_000 })
          .toBeGreaterThanOrEqual(5);
        expect(parseInt(await text('download-percent'), 10)).toBeLessThan(100);
        expect(await text('download-speed')).toMatch(/MB\/s$/);
        expect(await text('download-eta')).toMatch(/ left$/);
        await page.getByTestId('download-panel').scrollIntoViewIfNeeded();
        await page.screenshot({ path: join(SHOTS, 'hub-download-progress.png') });
        await page.getByTestId('download-cancel').click();
        await expect.poll(panelStatus).toBe('cancelled');
        expect(await text('download-status')).toMatch(/cancelled; nothing partial was kept/);
        expect(await page.getByTestId('download-bar').count()).toBe(0);
        expect(await page.getByTestId('download-cancel').count()).toBe(0);
        expect(await page.getByTestId('error-banner').count()).toBe(0);
        await idle(page);
        expect(await page.getByTestId('download-button').isEnabled()).toBe(true);
        await page.screenshot({ path: join(SHOTS, 'hub-download-cancelled.png') });
      } finally {
        hub.throttleBytesPerS = null;
      }
    });
  },
);
