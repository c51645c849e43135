/**
 * End to end in real Chromium against `serve`, on the embedded pair: compare draft-length
 * policies and drafters over a prompt set loaded from a file, see one table row per
 * configuration and a per-prompt table, the acceptance-by-position and theory charts drawn with
 * the predicted best K named, the K used at every step of a heuristic run, sampling inputs
 * checked, a sampled sweep, and the prompt count in History.
 * Screenshots go to test-results/screenshots; with UPDATE_SCREENSHOTS=1 to docs/screenshots.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chromiumMissing,
  idle,
  openApp,
  pressRun,
  painted,
  resultRows,
  setKs,
  SHOTS,
  type BrowserApp,
  verdictOnScreen,
} from '../support/browserApp';

const missing = chromiumMissing;

const PROMPTS = ['The old man walked slowly to the', 'In the spring of that year the'];
const KS = [1, 2, 3];

let app: BrowserApp;
let page: Page;

beforeAll(async () => {
  if (missing) return;
  app = await openApp('e2e-decoding');
  ({ page } = app);
});

afterAll(async () => {
  await app?.close();
});

describe.skipIf(missing !== null)(
  `decoding choices in Chromium${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    it('compares two policies and both drafters over a prompt set loaded from a file', async () => {
      await expect.poll(() => page.getByTestId('run-button').isEnabled()).toBe(true);
      await page.getByTestId('repeats-input').fill('1');
      await page.getByTestId('max-new-tokens-input').fill('24');
      await setKs(page, KS);
      await page.getByTestId('policy-heuristic').check();
      await page.getByTestId('drafter-prompt-lookup').check();
      expect(await page.getByTestId('policy-fixed').isChecked()).toBe(true);
      expect(await page.getByTestId('drafter-model').isChecked()).toBe(true);
      // p-min is only asked for with the confidence policy
      expect(await page.getByTestId('p-min-input').count()).toBe(0);

      await page.getByTestId('prompt-set-toggle').check();
      await page.getByTestId('prompt-file-input').setInputFiles({
        name: 'prompts.txt',
        mimeType: 'text/plain',
        // a blank line and a Windows line end: both must be handled
        buffer: Buffer.from(`${PROMPTS[0]}\r\n\n${PROMPTS[1]}\n`),
      });
      await expect
        .poll(() => page.getByTestId('prompt-set-input').inputValue())
        .toContain(PROMPTS[1]!);
      expect(await page.getByTestId('prompt-set-count').textContent()).toMatch(/^\s*2 prompts/);

      await pressRun(page);
      // 2 drafters x 2 policies x 3 K, plus the baseline
      await expect.poll(() => resultRows(page), { timeout: 120_000 }).toBe(13);
      await idle(page);
      const labels = await page
        .locator('[data-testid="results-row"], [data-testid="best-k-row"]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-label')));
      const expected = ['Baseline'];
      for (const drafter of ['model', 'prompt-lookup'])
        for (const policy of ['fixed', 'heuristic'])
          for (const k of KS) expected.push(`K=${k} ${drafter} / ${policy}`);
      expect(labels).toEqual(expected);
      await verdictOnScreen(page);
      // 2 prompts per row: the spread is shown
      expect(await page.getByTestId('results-table').textContent()).toContain('–');

      const promptRows = page.getByTestId('prompt-row');
      expect(await promptRows.count()).toBe(2);
      expect(await promptRows.first().textContent()).toContain('The old man walked');
      // one run per prompt on a loaded machine may beat nothing: the cell then says so in words
      expect(await page.getByTestId('prompt-best').first().textContent()).toMatch(
        /K=\d|none beat the baseline/,
      );

      await page.getByTestId('results-table').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(SHOTS, 'strategies.png'), fullPage: true });
    });

    it('draws acceptance by position and theory beside measurement, naming both best Ks', async () => {
      expect(await painted(page, 'chart-position-acceptance')).toBeGreaterThan(1000);
      expect(await painted(page, 'chart-theory')).toBeGreaterThan(1000);
      await expect
        .poll(() => page.getByTestId('theory-best-k').textContent())
        .toMatch(/Predicted best K: K=\d+/);
      // a loaded machine may honestly measure no win: the sentence then names the fastest K
      expect(await page.getByTestId('measured-best-k').textContent()).toMatch(
        /^\s*Measured: (K=\d+|No configuration beat the baseline: the fastest, K=\d+)/,
      );
      await page.getByTestId('chart-theory').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(SHOTS, 'theory.png') });
    });

    it('shows the K used at every step of a heuristic run, and it changes', async () => {
      const select = page.getByTestId('run-select');
      const value = await select
        .locator('option', { hasText: 'K=3 model / heuristic, prompt 1' })
        .getAttribute('value');
      expect(value).toBeTruthy();
      await select.selectOption(value!);
      const strip = page.getByTestId('k-strip');
      await strip.waitFor({ state: 'visible' });
      const ks = ((await strip.getAttribute('data-ks')) ?? '').split(' ').map(Number);
      expect(ks.length).toBeGreaterThan(2);
      expect(ks[0]).toBe(3);
      // +2 after a fully accepted step, -1 otherwise: step 2 never drafts what step 1 did
      expect(ks[1]).not.toBe(3);
      expect(new Set(ks).size).toBeGreaterThan(1);

      // chosen: shown at its end; the scrubber takes it back to the prompt
      const label = page.getByTestId('step-label');
      await expect.poll(() => label.textContent()).toMatch(/^Step (\d+) of \1 · /);
      await page.getByTestId('step-scrubber').evaluate((el) => {
        const input = el as HTMLInputElement;
        input.value = '0';
        input.dispatchEvent(new Event('input', { bubbles: true }));
      });
      await expect.poll(() => label.textContent()).toMatch(/^Step 0 of \d+/);
      await page.locator('body').click({ position: { x: 5, y: 5 } });
      await page.keyboard.press('Shift+ArrowRight');
      await page.keyboard.press('Shift+ArrowRight');
      await expect.poll(() => label.textContent()).toMatch(/Step 2 of \d+/);
      // the drafts made at that step, and the run's K
      expect(await label.textContent()).toContain(`drafted ${ks[1]} (K=3)`);
      await page.getByTestId('token-stream').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(SHOTS, 'k-per-step.png') });
    });

    it('checks the sampling inputs and runs a sampled sweep', async () => {
      await page.getByTestId('decoding-sampling').check();
      await page.getByTestId('temperature-input').fill('0');
      const error = page.getByTestId('temperature-error');
      await error.waitFor({ state: 'visible' });
      expect(await error.textContent()).toMatch(/Temperature must be above 0/);
      await page.getByTestId('top-p-input').fill('1.5');
      expect(await page.getByTestId('top-p-error').textContent()).toMatch(/Top-p/);
      // Run is off while a field is wrong, and says which ones
      expect(await page.getByTestId('run-button').isDisabled()).toBe(true);
      expect(await page.getByTestId('run-off-reason').textContent()).toMatch(
        /Run is off until these are fixed: Temperature, Top-p\./,
      );
      expect(await page.getByTestId('run-button').getAttribute('aria-describedby')).toBe(
        'run-off-reason',
      );
      await page.getByTestId('temperature-input').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(SHOTS, 'sampling-invalid.png') });

      await page.getByTestId('temperature-input').fill('0.8');
      await page.getByTestId('top-p-input').fill('0.95');
      await page.getByTestId('seed-input').fill('1');
      expect(await error.count()).toBe(0);
      expect(await page.getByTestId('run-off-reason').count()).toBe(0);
      // one prompt, one policy, one drafter: a quick sampled sweep
      await page.getByTestId('policy-heuristic').uncheck();
      await page.getByTestId('drafter-prompt-lookup').uncheck();
      await page.getByTestId('prompt-set-toggle').uncheck();
      await pressRun(page);
      await expect.poll(() => resultRows(page), { timeout: 120_000 }).toBe(KS.length + 1);
      await idle(page);
      await expect
        .poll(() => page.getByTestId('progress').getAttribute('data-status'))
        .toBe('finished');
      expect(await page.getByTestId('prompt-table').count()).toBe(0);
    });

    it('lists the prompt set sweep in History with its prompt count and its theory', async () => {
      const withPrompts = page
        .getByTestId('history-item')
        .filter({ has: page.getByTestId('history-prompts') });
      await expect.poll(() => withPrompts.count()).toBe(1);
      expect(await withPrompts.getByTestId('history-prompts').textContent()).toBe('2 prompts');
      await withPrompts.click();
      await expect.poll(() => resultRows(page)).toBe(13);
      expect(await page.getByTestId('prompt-row').count()).toBe(2);
      expect(await page.getByTestId('theory-best-k').textContent()).toMatch(/K=\d+/);
    });
    it('names the seed prompt’s loop and re-runs it with no-repeat 3-gram, still identical', async () => {
      // back to greedy, the seed prompt, one repeat
      await page.getByTestId('decoding-greedy').check();
      await page.getByTestId('repeats-input').fill('1');
      await page.getByTestId('max-new-tokens-input').fill('40');
      await pressRun(page);
      await idle(page);
      const notice = page.getByTestId('loop-notice');
      await notice.waitFor({ state: 'visible' });
      expect(await notice.textContent()).toContain('falls into a 3-token cycle at new token 11');
      // the stream names the same cycle, and marks it once: on new token 11
      expect(await page.getByTestId('stream-loop').textContent()).toMatch(
        /Loop from new token 11: the 3-token cycle\s+" the world of"\s+repeats/,
      );
      expect(await page.locator('[data-loop]').count()).toBe(1);
      const loopAt = await page
        .locator('[data-testid="token"]')
        .evaluateAll((els) =>
          els
            .filter((e) => !['prompt', 'draft', 'rejected'].includes(e.getAttribute('data-kind')!))
            .findIndex((e) => e.getAttribute('data-loop') === 'start'),
        );
      expect(loopAt).toBe(10);
      await page.getByTestId('stream-loop').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(SHOTS, 'loop.png') });
      const size = page.viewportSize()!;
      await page.setViewportSize({ width: 1024, height: 700 });
      await page.getByTestId('stream-loop').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(SHOTS, 'loop-1024.png') });
      await page.setViewportSize(size);
      // a wrong value is refused in words before anything is sent
      await page.getByTestId('no-repeat-ngram-input').fill('25');
      expect(await page.getByTestId('no-repeat-ngram-error').textContent()).toMatch(/0 to 20/);
      await page.getByTestId('no-repeat-ngram-input').fill('0');
      await page.getByTestId('rerun-no-repeat').click();
      await idle(page);
      expect(await page.getByTestId('no-repeat-ngram-input').inputValue()).toBe('3');
      await expect.poll(() => notice.count()).toBe(0);
      expect(await page.getByTestId('stream-loop').count()).toBe(0);
      // every speculative row still reproduces the (processed) baseline
      const identical = await page
        .getByTestId('results-row')
        .evaluateAll((rows) => rows.map((r) => r.textContent ?? ''));
      expect(identical.length).toBeGreaterThan(1);
      for (const row of identical) expect(row).toMatch(/Yes/);
      await page.screenshot({ path: join(SHOTS, 'repetition.png') });
    });
  },
);
