/**
 * The app end to end on a model family of issue 33, in real Chromium against `serve`, with a
 * local stand-in for the Hub serving tiny Llama models under the real repo ids of the catalog's
 * llama3.2-1b/3b pair: the target is the tiny Llama 3.2 Hub layout (weights in external data
 * chunks) with a chat template in chat_template.jinja, the draft the family's tiny draft. The
 * pair picker shows the pair's repos, sizes per weight type, expected c and published figures
 * before any download and fills the pair; the weight types follow the repo; a sweep and the step
 * view run on llama, and the results name the family and the chat template, applied and off; a
 * q4 target's 4-bit products switched to as exported, and what they ran in on the card and in the CSV.
 * Screenshots at 1440x900 and 1024x700 go to test-results/screenshots.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogEntry, estimatedBytes } from '../../src/shared/catalog';
import { formatBytes } from '../../src/renderer/src/lib/downloadFormat';
import { ROOT } from '../support/helpers';
import {
  chromiumMissing,
  idle,
  openApp,
  resultRows,
  runSweep,
  SHOTS,
  type BrowserApp,
} from '../support/browserApp';
import { startHubServer, type HubServer } from '../support/hubServer';
import { instructHubLayout } from '../support/instructLayout';

const missing = chromiumMissing;

const TARGET_REPO = 'onnx-community/Llama-3.2-3B-Instruct';
const DRAFT_REPO = 'onnx-community/Llama-3.2-1B-Instruct';
const DRAFT_DIR = join(ROOT, 'test', 'fixtures', 'families', 'llama-tiny-draft');
/** a repo no catalog entry names, with one ONNX file (fp32) */
const OTHER_REPO = 'someone/llama-tiny-fp32-only';
const APPLIED = "each prompt rendered as a user's turn in the target's chat template";

let hub: HubServer;
/** the baseline's output ids with the chat template applied, against those with it off */
let appliedOutput = '';
let app: BrowserApp;
let page: Page;

beforeAll(async () => {
  if (missing) return;
  hub = await startHubServer({
    [TARGET_REPO]: instructHubLayout(),
    [DRAFT_REPO]: DRAFT_DIR,
    [OTHER_REPO]: DRAFT_DIR,
  });
  app = await openApp('e2e-families', { hubHost: hub.url });
  ({ page } = app);
});

afterAll(async () => {
  await app?.close();
  await hub?.close();
});

const text = async (testId: string): Promise<string> =>
  ((await page.getByTestId(testId).first().textContent()) ?? '').replace(/\s+/g, ' ').trim();

/** the window at this size, once the app has seen it (the set-up folds into a drawer below 1200 px) */
async function resize(width: number, height: number): Promise<void> {
  await page.setViewportSize({ width, height });
  await page.waitForFunction((w) => window.innerWidth === w, width);
  // matchMedia's change reaches the app in a task of its own: let it run before going on
  await page.evaluate(
    () => new Promise((done) => requestAnimationFrame(() => setTimeout(done, 50))),
  );
}

/** `selector` at the top of the window, under the toolbar, painted (off-screen cards are not) */
async function scrollToTop(selector: string): Promise<void> {
  await page.locator(selector).evaluate((el) => {
    el.scrollIntoView({ block: 'start' });
    window.scrollBy(0, -(document.querySelector('.top')?.clientHeight ?? 60) - 12);
  });
  await page.evaluate(
    () =>
      new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => done(null)))),
  );
}

/** the set-up panel is open (on narrow windows it is a drawer, closed at first) */
async function openSetup(): Promise<void> {
  const pane = page.getByTestId('setup-pane');
  if (!(await pane.isVisible())) await page.getByTestId('setup-toggle').click();
  await pane.waitFor({ state: 'visible' });
}

/** `testId` in view within the set-up panel, the window itself at its top (the toolbar, the stream) */
async function showInSetup(testId: string): Promise<void> {
  await page.getByTestId(testId).evaluate((el) => el.scrollIntoView({ block: 'center' }));
  await page.evaluate(() => window.scrollTo(0, 0));
}

/** the analysis' set-up lines, which name the families and the chat template */
const analysisContext = (): Promise<string> =>
  page
    .getByTestId('analysis-panel')
    .locator('ul.context')
    .textContent()
    .then((t) => (t ?? '').replace(/\s+/g, ' '));

async function exportedRuns(): Promise<Array<Record<string, string>>> {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('export-runs').click(),
  ]);
  return parse(readFileSync(await download.path(), 'utf8'), { columns: true }) as Array<
    Record<string, string>
  >;
}

describe.skipIf(missing !== null)(
  `a model family in Chromium${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    it('shows a natural pair with its repos, sizes, expected c and published figures before any download', async () => {
      await idle(page);
      const picker = page.getByTestId('pair-picker');
      await picker.locator('summary').click();
      await page.getByTestId('pair-picker-select').selectOption('llama3.2-1b/3b');
      await page.getByTestId('pair-picker-dtype').selectOption('q4');
      const draft = catalogEntry('llama3.2-1b')!;
      const target = catalogEntry('llama3.2-3b')!;
      expect(await text('pair-card-draft-repo')).toBe(DRAFT_REPO);
      expect(await text('pair-card-target-repo')).toBe(TARGET_REPO);
      expect(await text('pair-card-draft-size')).toBe(
        `about ${formatBytes(estimatedBytes(draft, 'q4'))}`,
      );
      expect(await text('pair-card-target-size')).toBe(
        `about ${formatBytes(estimatedBytes(target, 'q4'))}`,
      );
      expect(await text('pair-card-outlook')).toMatch(
        /^Expected cost ratio c about 0\.\d\d \(llama3\.2-1b \/ llama3\.2-3b/,
      );
      expect(await text('pair-card-figure')).toBe(
        "Acceptance 0.72, speedup 1.7x: llama.cpp on an RTX 3060; target Llama-3.1-8B, not this pair's. Source: as quoted in issue 33.",
      );
      // sizes follow the weight type
      await page.getByTestId('pair-picker-dtype').selectOption('fp32');
      expect(await text('pair-card-target-size')).toBe(
        `about ${formatBytes(estimatedBytes(target, 'fp32'))}`,
      );
      // the seed pair: GPT-2's repos carry three weight types only
      await page.getByTestId('pair-picker-select').selectOption('seed');
      expect(
        await page
          .getByTestId('pair-picker-dtype')
          .locator('option')
          .evaluateAll((els) => els.map((e) => (e as HTMLOptionElement).value)),
      ).toEqual(['fp32', 'fp16', 'q8']);
      expect(await text('pair-card-published')).toMatch(/None known for this pair/);
      // nothing was downloaded, nor asked of the Hub
      expect(hub.requests).toEqual([]);

      await page.getByTestId('pair-picker-select').selectOption('llama3.2-1b/3b');
      await page.getByTestId('pair-picker-dtype').selectOption('q4');
      for (const [width, height] of [
        [1440, 900],
        [1024, 700],
      ] as const) {
        await resize(width, height);
        await openSetup();
        await picker.scrollIntoViewIfNeeded();
        await page.screenshot({ path: join(SHOTS, `pair-picker-${width}.png`) });
      }
      await resize(1280, 900);
    });

    it('fills target and draft from the pair, with the weight types their repos carry', async () => {
      await page.getByTestId('pair-use').click();
      expect(await page.getByTestId('target-catalog').inputValue()).toBe('llama3.2-3b');
      expect(await page.getByTestId('draft-catalog').inputValue()).toBe('llama3.2-1b');
      expect(await page.getByTestId('target-dtype').inputValue()).toBe('q4');
      expect(await page.getByTestId('draft-dtype').inputValue()).toBe('q4');
      expect(await page.getByTestId('pair-in-use').isVisible()).toBe(true);
      expect(await page.getByTestId('pair-use').isDisabled()).toBe(true);
      // every weight type of the family's repos, each with its size
      for (const dtype of ['int8', 'uint8', 'q4f16', 'bnb4']) {
        expect(await page.getByTestId(`target-dtype-${dtype}`).isDisabled(), dtype).toBe(false);
      }
      expect(await page.getByTestId('target-dtype-q4f16').textContent()).toContain(
        formatBytes(estimatedBytes(catalogEntry('llama3.2-3b')!, 'q4f16')),
      );
      // a typed repo id of the catalog is held to its repo's files: GPT-2's have no 4-bit ones
      await page.getByTestId('target-repo-input').fill('Xenova/gpt2-medium');
      expect(await text('target-source-error')).toBe(
        'Xenova/gpt2-medium has no q4 file; it has fp32, fp16, q8: choose one of those under Weights.',
      );
      expect(await page.getByTestId('run-button').isDisabled()).toBe(true);
      // the seed pair falls back to fp32 and offers no 4-bit file
      await page.getByTestId('seed-pair-button').click();
      expect(await page.getByTestId('target-dtype').inputValue()).toBe('fp32');
      expect(await page.getByTestId('target-dtype-q4').isDisabled()).toBe(true);
      expect(await page.getByTestId('target-source-error').count()).toBe(0);

      // the family pair in fp32, the weight type the stand-ins are served in
      await page.getByTestId('pair-picker-dtype').selectOption('fp32');
      await page.getByTestId('pair-use').click();
      expect(await page.getByTestId('target-dtype').inputValue()).toBe('fp32');
      expect(await page.getByTestId('chat-template').inputValue()).toBe('auto');
    });

    it('runs a sweep on llama from the Hub, the chat template applied and named in the results', async () => {
      await page.getByTestId('prompt-input').fill('The cat sat');
      await runSweep(page, 20, [1, 2, 3]);
      await expect.poll(() => resultRows(page), { timeout: 180_000 }).toBe(4);
      await idle(page);
      // the target's chat_template.jinja came with it
      expect(hub.requests).toContain(`GET /${TARGET_REPO}/resolve/main/chat_template.jinja`);
      expect(await text('loaded-target-name')).toBe(TARGET_REPO);
      await expect
        .poll(analysisContext)
        .toContain(`Families: target llama, draft llama; ${APPLIED}.`);
      const runs = await exportedRuns();
      expect(runs.length).toBe(4);
      for (const run of runs) {
        expect(run.targetFamily).toBe('llama');
        expect(run.draftFamily).toBe('llama');
        expect(run.chatTemplate).toBe('applied');
        expect(run.identical).toBe('true');
      }
      expect(runs[0]!.mode).toBe('baseline');
      appliedOutput = runs[0]!.outputTokenIds!;

      // the stream shows what the models read: the template's turn around the typed prompt
      const template = page.getByTestId('stream-template');
      await expect.poll(() => template.count()).toBe(2);
      expect(await template.first().textContent()).toContain(
        '<|start_header_id|>user<|end_header_id|>',
      );
      expect(await template.last().textContent()).toContain(
        '<|start_header_id|>assistant<|end_header_id|>',
      );
      const promptLine = page.getByTestId('stream-prompt');
      const rendered = (await promptLine.textContent()) ?? '';
      // the typed text sits between the two, as the user typed it
      expect(rendered.indexOf('The cat sat')).toBeGreaterThan(
        rendered.indexOf('<|end_header_id|>'),
      );
      await promptLine.screenshot({ path: join(SHOTS, 'family-prompt-template.png') });
      // the toggle shows the typed prompt alone
      await page.getByTestId('template-toggle').uncheck();
      expect(await template.count()).toBe(0);
      expect(((await promptLine.textContent()) ?? '').trim()).toBe('The cat sat');
      await page.getByTestId('template-toggle').check();
      expect(await template.count()).toBe(2);

      for (const [width, height] of [
        [1440, 900],
        [1024, 700],
      ] as const) {
        await resize(width, height);
        await page.evaluate(() => window.scrollTo(0, 0));
        // the pair as chosen, beside the run (on a narrow window the set-up stays folded)
        if (width >= 1200) await page.getByTestId('target-picker').scrollIntoViewIfNeeded();
        await page.screenshot({ path: join(SHOTS, `family-run-${width}.png`) });
        await scrollToTop('#analysis-title');
        await page.screenshot({ path: join(SHOTS, `family-analysis-${width}.png`) });
      }
      await resize(1280, 900);
      await page.evaluate(() => window.scrollTo(0, 0));
    });

    it('steps through a llama run, and step by step on the engine', async () => {
      const label = page.getByTestId('step-label');
      const last = await label.textContent();
      await page.getByTestId('step-back').click();
      await page.getByTestId('step-back').click();
      expect(await label.textContent()).not.toBe(last);
      await page.getByTestId('live-k-input').fill('2');
      await page.getByTestId('live-start').click();
      await expect.poll(() => page.getByTestId('live-next').isEnabled()).toBe(true);
      await page.getByTestId('live-next').click();
      await expect.poll(() => page.getByTestId('live-next').isEnabled()).toBe(true);
      await page.getByTestId('live-next').click();
      await expect
        .poll(() => page.locator('.live .status').textContent())
        .toMatch(/^(3 steps so far|Finished after)/);
      expect(await page.getByTestId('live-error').count()).toBe(0);
      for (const [width, height] of [
        [1440, 900],
        [1024, 700],
      ] as const) {
        await resize(width, height);
        await page.evaluate(() => window.scrollTo(0, 0));
        await page.screenshot({ path: join(SHOTS, `family-step-${width}.png`) });
      }
      await resize(1280, 900);
    });

    it('turns the chat template off: the prompt as written, and the results say so', async () => {
      await openSetup();
      await page.getByTestId('chat-template').selectOption('off');
      const before = hub.requests.length;
      await runSweep(page, 20, [1, 2, 3]);
      await expect.poll(() => resultRows(page), { timeout: 180_000 }).toBe(4);
      await idle(page);
      expect(hub.requests.length).toBe(before); // cached: not a single request
      await expect
        .poll(analysisContext)
        .toContain('Families: target llama, draft llama; prompts as written (chat template off).');
      const runs = await exportedRuns();
      expect(runs.map((r) => r.chatTemplate)).toEqual(['off', 'off', 'off', 'off']);
      expect(runs.every((r) => r.identical === 'true')).toBe(true);
      // the models saw another input: the prompt alone, not the template's turn around it
      expect(runs[0]!.mode).toBe('baseline');
      expect(runs[0]!.outputTokenIds).not.toBe(appliedOutput);
      // and the stream shows the prompt alone, with no template to toggle
      expect(await page.getByTestId('stream-template').count()).toBe(0);
      expect(await page.getByTestId('template-toggle').count()).toBe(0);
    });

    it('refuses a Hub repo that lacks the chosen weight type in the app’s words: the Weights list and the types it has', async () => {
      await openSetup();
      await page.getByTestId('target-repo-input').fill(OTHER_REPO);
      await page.getByTestId('target-dtype').selectOption('q4');
      await page.getByTestId('run-button').click();
      const error = page.locator('#host-error-pair');
      await error.waitFor({ timeout: 60_000 });
      const said = ((await error.textContent()) ?? '').replace(/\s+/g, ' ');
      expect(said).toContain(`${OTHER_REPO} has no q4 ONNX decoder`);
      expect(said).toContain("It has fp32: choose fp32 in this model's Weights list (its dtype)");
      // the CLI's advice stays the CLI's
      expect(said).not.toContain('--dtype');
      for (const [width, height] of [
        [1440, 900],
        [1024, 700],
      ] as const) {
        await resize(width, height);
        await openSetup();
        await error.scrollIntoViewIfNeeded();
        await page.screenshot({ path: join(SHOTS, `family-dtype-missing-${width}.png`) });
      }
      await resize(1280, 900);
    });

    it('chooses how a q4 file computes its 4-bit products, and says which ran: on the card and in the CSV', async () => {
      await openSetup();
      const target = {
        q4: page.getByTestId('target-q4-compute'),
        ep: page.getByTestId('target-ep'),
      };
      await page.getByTestId('target-repo-input').fill(TARGET_REPO);
      await page.getByTestId('target-dtype').selectOption('fp32');
      // fp32 has no 4-bit products: the control is off, and says why and what to change
      expect(await target.q4.isDisabled()).toBe(true);
      expect(await text('target-q4-compute-reason')).toBe(
        'fp32 weights have no 4-bit products: choose q4 or q4f16 under Weights.',
      );
      expect(await target.q4.getAttribute('aria-describedby')).toBe('target-q4-compute-reason');
      // q4 on the CPU: on, as exported (lossless) by default; int8 is the opt-in speed mode
      await page.getByTestId('target-dtype').selectOption('q4');
      await target.ep.selectOption('cpu');
      expect(await target.q4.isDisabled()).toBe(false);
      expect(await target.q4.inputValue()).toBe('exported');
      await target.q4.selectOption('int8');
      expect(await page.getByTestId('target-q4-compute-reason').count()).toBe(0);
      // a GPU provider reads the file's own levels
      await target.ep.selectOption('webgpu');
      expect(await target.q4.isDisabled()).toBe(true);
      expect(await text('target-q4-compute-reason')).toMatch(
        /On webgpu the provider computes 4-bit products as the file sets them: choose cpu or auto under Provider\.$/,
      );
      await target.ep.selectOption('cpu');
      await target.q4.selectOption('exported');
      // the draft: the family's fp32 draft from the Hub, no 4-bit products
      await page.getByTestId('draft-repo-input').fill(DRAFT_REPO);
      await page.getByTestId('draft-dtype').selectOption('fp32');
      await page.getByTestId('draft-ep').selectOption('cpu');
      expect(await page.getByTestId('draft-q4-compute').isDisabled()).toBe(true);
      for (const [width, height] of [
        [1440, 900],
        [1024, 700],
      ] as const) {
        await resize(width, height);
        await openSetup();
        await showInSetup('draft-q4-compute-reason');
        await page.screenshot({ path: join(SHOTS, `q4-compute-choice-${width}.png`) });
      }
      await resize(1280, 900);

      await runSweep(page, 12, [1, 2]);
      await expect.poll(() => resultRows(page), { timeout: 180_000 }).toBe(3);
      await idle(page);
      // the card says what ran: the Hub's q4 file sets no level, so as exported is float32
      const card = page.getByTestId('loaded-target-q4-compute');
      expect(await card.getAttribute('data-q4-compute')).toBe('float');
      expect(await text('loaded-target-q4-compute')).toBe(
        ', 4-bit products in float32 (as exported)',
      );
      expect(await page.getByTestId('loaded-draft-q4-compute').count()).toBe(0);
      const runs = await exportedRuns();
      expect(runs.length).toBe(3);
      for (const run of runs) {
        expect([run.targetDtype, run.targetQ4Compute, run.draftQ4Compute]).toEqual([
          'q4',
          'float',
          '',
        ]);
        expect(run.identical).toBe('true');
      }
      for (const [width, height] of [
        [1440, 900],
        [1024, 700],
      ] as const) {
        await resize(width, height);
        await openSetup();
        await showInSetup('loaded-models');
        await page.screenshot({ path: join(SHOTS, `q4-compute-loaded-${width}.png`) });
      }
      await resize(1280, 900);
    });
  },
);
