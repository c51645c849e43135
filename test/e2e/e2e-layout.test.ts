/**
 * The experiment on one screen, in real Chromium against `serve` on the embedded pair: at
 * 1440x900 and 1024x700 the Run control and progress, the token stream and Time vs K are in
 * the window without scrolling before, during and after a sweep; the keyboard runs, cancels
 * and steps; errors sit beside their cause and a refused attempt clears nothing; the stream
 * folds rejected drafts, keeps the prompt in view and highlights the step on screen; the table
 * fits 1024 px and the charts share one K axis. Bounding boxes, not screenshots, decide.
 */
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
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
  verdictOnScreen,
} from '../support/browserApp';

const missing = chromiumMissing;

let app: BrowserApp;
let page: Page;

beforeAll(async () => {
  if (missing) return;
  app = await openApp('e2e-layout');
  ({ page } = app);
});

afterAll(async () => {
  await app?.close();
});

/** the element lies wholly inside the window, and the page is not scrolled */
async function onScreen(locator: Locator, name: string, minHeight = 20): Promise<void> {
  const box = await locator.boundingBox();
  expect(box, `${name} is not drawn`).not.toBeNull();
  const { width, height } = page.viewportSize()!;
  expect(await page.evaluate(() => window.scrollY), 'the page is scrolled').toBe(0);
  expect(box!.y, `${name} top`).toBeGreaterThanOrEqual(0);
  expect(box!.x, `${name} left`).toBeGreaterThanOrEqual(0);
  expect(box!.y + box!.height, `${name} bottom at ${width}x${height}`).toBeLessThanOrEqual(height);
  expect(box!.x + box!.width, `${name} right at ${width}x${height}`).toBeLessThanOrEqual(width);
  expect(box!.height, `${name} has room`).toBeGreaterThanOrEqual(minHeight);
}

async function experimentOnScreen(stage: string, withProgress: boolean): Promise<void> {
  await onScreen(page.getByTestId('run-button'), `Run (${stage})`);
  await onScreen(page.getByTestId('cancel-button'), `Cancel (${stage})`);
  if (withProgress) await onScreen(page.getByTestId('progress'), `progress (${stage})`, 10);
  await onScreen(page.getByTestId('token-stream'), `token stream (${stage})`, 150);
  await onScreen(page.getByTestId('chart-time'), `Time vs K (${stage})`, 250);
}

/**
 * Tokens in the stream drawn with more than one mark (a box, outline or shadow, and a line
 * through or under the text); the step on screen's outline does not count (the legend names it).
 */
async function tokensWithTwoMarks(on: Page): Promise<string[]> {
  return on.getByTestId('token-stream').evaluate((stream) =>
    [...stream.querySelectorAll<HTMLElement>('.tok')].flatMap((el) => {
      const style = getComputedStyle(el);
      const outlined =
        !el.classList.contains('current') &&
        style.outlineStyle !== 'none' &&
        style.outlineWidth !== '0px';
      const boxed =
        outlined ||
        (style.borderTopStyle !== 'none' && style.borderTopWidth !== '0px') ||
        style.boxShadow !== 'none';
      const lined = style.textDecorationLine !== 'none';
      return boxed && lined ? [`${el.dataset.kind} ${el.textContent}`] : [];
    }),
  );
}

/** the set-up panel is open (on narrow windows it is a drawer, closed at first) */
async function openSetup(): Promise<void> {
  const toggle = page.getByTestId('setup-toggle');
  if ((await toggle.getAttribute('aria-expanded')) === 'false') await toggle.click();
  await page.getByTestId('setup-pane').waitFor({ state: 'visible' });
}

describe.skipIf(missing !== null)(
  `the experiment on one screen${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    for (const [width, height] of [
      [1440, 900],
      [1024, 700],
    ] as const) {
      it(`shows Run, progress, the stream and Time vs K without scrolling at ${width}x${height}`, async () => {
        await page.setViewportSize({ width, height });
        await page.reload();
        await expect.poll(() => page.getByTestId('run-button').isEnabled()).toBe(true);
        await experimentOnScreen('before a sweep', false);
        // the plot keeps its size while runs finish and the fastest K's sentence appears (a
        // resized chart is redrawn, mid-sweep, beside the engine)
        const plot = page.getByTestId('chart-time');
        const plotBefore = await plot.boundingBox();
        // wide windows keep the set-up beside the stream; narrow ones fold it into a drawer
        expect(await page.getByTestId('setup-toggle').getAttribute('aria-expanded')).toBe(
          width >= 1200 ? 'true' : 'false',
        );
        await openSetup();
        await runSweep(page, 200, [1, 2, 4, 8]);
        // Run closed the drawer on the narrow window, so the stream is not covered
        if (width < 1200) expect(await page.getByTestId('setup-pane').isVisible()).toBe(false);
        await expect
          .poll(() => page.getByTestId('token').count(), { timeout: 60_000 })
          .toBeGreaterThan(5);
        await experimentOnScreen('during a sweep', true);
        expect(await plot.boundingBox(), 'Time vs K during a sweep').toEqual(plotBefore);
        await page.screenshot({ path: join(SHOTS, `layout-${width}-running.png`) });
        await idle(page);
        await experimentOnScreen('after a sweep', true);
        expect(await page.getByTestId('time-best').textContent()).toContain('Best K');
        expect(await plot.boundingBox(), 'Time vs K after a sweep').toEqual(plotBefore);
        await page.screenshot({ path: join(SHOTS, `layout-${width}.png`) });
      });
    }

    it('fits 1024 px: the table does not scroll sideways, its secondary columns fold', async () => {
      await page.setViewportSize({ width: 1024, height: 700 });
      const wrap = page.getByTestId('results-table').locator('xpath=..');
      const overflow = await wrap.evaluate((el) => el.scrollWidth - el.clientWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      // and the table itself ends inside the window, its last column with it
      const table = (await page.getByTestId('results-table').boundingBox())!;
      expect(table.x + table.width).toBeLessThanOrEqual(1024);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
        1024,
      );
      const headers = page.getByTestId('results-table').locator('thead th');
      const shown = await headers.allTextContents();
      expect(shown).toContain('Speedup');
      expect(shown).toContain('Identical');
      expect(shown).not.toContain('Output Text Sample');
      // greedy speculative output equals the baseline's: the text is shown once, above
      expect(await page.getByTestId('same-sample').textContent()).toMatch(
        /^Every row wrote the same text: /,
      );
      await page.getByTestId('columns-toggle').check();
      expect(await headers.allTextContents()).toContain('Output Text Sample');
      await page.getByTestId('columns-toggle').uncheck();
    });

    it('draws every K chart on one K axis', async () => {
      const axes = await page
        .locator('canvas[data-x-max]')
        .evaluateAll((els) =>
          els.map((e) => `${e.getAttribute('data-testid')} ${e.getAttribute('data-x-max')}`),
        );
      const k = axes.filter((a) => !a.startsWith('chart-position-acceptance'));
      expect(k).toEqual(
        expect.arrayContaining(['chart-time 8', 'chart-passes 8', 'chart-acceptance 8']),
      );
      expect(new Set(k.map((a) => a.split(' ')[1]))).toEqual(new Set(['8']));
    });

    it('folds rejected drafts into markers, shows them on demand, keeps the prompt in view', async () => {
      await page.setViewportSize({ width: 1440, height: 900 });
      await page.getByTestId('run-select').selectOption({ label: 'K=8' });
      // a chosen run is shown whole: at its last step, with all its new tokens
      await expect
        .poll(() => page.getByTestId('step-label').textContent())
        .toMatch(/^Step (\d+) of \1 · /);
      expect(await page.getByTestId('token-count').textContent()).toMatch(/^\s*200 new tokens/);
      await expect.poll(() => page.getByTestId('rejected-fold').count()).toBeGreaterThan(0);
      // colour plus at most one mark per token (the step on screen adds its outline)
      expect(await tokensWithTwoMarks(page)).toEqual([]);
      const fold = page.getByTestId('rejected-fold').first();
      const step = await fold.getAttribute('data-step');
      const folded = Number((await fold.textContent())!.replace(/\D/g, ''));
      expect(folded).toBeGreaterThan(0);
      const rejectedAt = page.locator(
        `[data-testid="token"][data-kind="rejected"][data-step="${step}"]`,
      );
      expect(await rejectedAt.count()).toBe(0);
      // the one shared tooltip: what a marker stands for, then a token's details
      const tooltip = page.getByTestId('token-tooltip');
      await fold.hover();
      await expect.poll(() => tooltip.textContent()).toMatch(`${folded} rejected drafts, folded`);
      const accepted = page.locator('[data-testid="token"][data-kind="accepted"]').first();
      await accepted.hover();
      await expect.poll(() => tooltip.textContent()).toMatch(/^\s*Accepted/);
      expect(await tooltip.textContent()).toMatch(/Token id\s*\d+\s*Step\s*\d+/);
      await page.screenshot({ path: join(SHOTS, 'token-tooltip.png') });
      await fold.click();
      expect(await rejectedAt.count()).toBe(folded);
      // the prompt stays above the scrolling output
      await onScreen(page.getByTestId('stream-prompt'), 'the prompt');
      await page.getByTestId('fold-toggle').uncheck();
      expect(await page.getByTestId('rejected-fold').count()).toBe(0);
      await page.getByTestId('fold-toggle').check();
    });

    it('steps with the arrow keys after a run is chosen, highlighting the step in view', async () => {
      const select = page.getByTestId('run-select');
      const label = page.getByTestId('step-label');
      // a chosen run is shown at its end, its label never cut, at 1024 and at 1440
      for (const width of [1024, 1440]) {
        await page.setViewportSize({ width, height: width === 1024 ? 700 : 900 });
        await select.selectOption({ label: 'K=2' });
        await select.selectOption({ label: 'K=8' });
        await expect.poll(() => label.textContent()).toMatch(/^Step (\d+) of \1 · drafted/);
        expect(
          await label.evaluate((el) => el.scrollWidth <= el.clientWidth),
          `step label cut at ${width}`,
        ).toBe(true);
        await page.getByTestId('token-stream').scrollIntoViewIfNeeded();
        await page.screenshot({ path: join(SHOTS, `chosen-run-${width}.png`) });
      }
      const chosen = await select.inputValue();
      const lastStep = Number(/^Step (\d+)/.exec((await label.textContent())!)![1]);
      // straight after choosing: the keys step the run back from its end, not the choice
      await page.keyboard.press('Shift+ArrowLeft');
      await expect
        .poll(() => label.textContent())
        .toMatch(new RegExp(`^Step ${lastStep - 1} of ${lastStep} · `));
      expect(await select.inputValue()).toBe(chosen);
      // back to the prompt, then step forward with the keys
      await page.getByTestId('step-scrubber').evaluate((el) => {
        const input = el as HTMLInputElement;
        input.value = '0';
        input.dispatchEvent(new Event('input', { bubbles: true }));
      });
      await expect.poll(() => label.textContent()).toMatch(/^Step 0 of \d+/);
      await page.locator('body').click({ position: { x: 5, y: 5 } });
      await page.keyboard.press('Shift+ArrowRight');
      await page.keyboard.press('Shift+ArrowRight');
      await page.keyboard.press('Shift+ArrowRight');
      expect(await select.inputValue()).toBe(chosen);
      await expect.poll(() => label.textContent()).toMatch(/^Step 3 of \d+/);
      const current = page.locator('[data-testid="token"].current');
      expect(await current.count()).toBeGreaterThan(0);
      expect(
        await current.evaluateAll((els) => els.every((e) => e.getAttribute('data-step') === '3')),
      ).toBe(true);
      // the step on screen is unfolded and scrolled into the stream's view
      expect(await page.locator('[data-testid="rejected-fold"][data-step="3"]').count()).toBe(0);
      const streamBox = (await page.getByTestId('token-stream').boundingBox())!;
      const tokenBox = (await current.last().boundingBox())!;
      expect(tokenBox.y).toBeGreaterThanOrEqual(streamBox.y);
      expect(tokenBox.y + tokenBox.height).toBeLessThanOrEqual(streamBox.y + streamBox.height);
      // to the last step: still in view
      for (let i = 0; i < 80; i++) await page.keyboard.press('Shift+ArrowRight');
      const last = page.locator('[data-testid="token"].current').last();
      const lastBox = (await last.boundingBox())!;
      const box = (await page.getByTestId('token-stream').boundingBox())!;
      expect(lastBox.y + lastBox.height).toBeLessThanOrEqual(box.y + box.height);
      await page.screenshot({ path: join(SHOTS, 'step-through.png') });
    });

    it('keeps the run on screen when a step-by-step run is refused', async () => {
      const label = page.getByTestId('step-label');
      const before = await label.textContent();
      const tokens = await page.getByTestId('token').count();
      expect(tokens).toBeGreaterThan(5);
      await openSetup();
      await page.getByTestId('target-source-kind').selectOption('folder');
      await page.getByTestId('target-dir-input').fill('/no/such/live-folder');
      await page.getByTestId('live-start').click();
      await page.getByTestId('live-error').waitFor({ state: 'visible' });
      expect(await label.textContent()).toBe(before);
      expect(await page.getByTestId('token').count()).toBe(tokens);
      await page.getByTestId('target-source-kind').selectOption('embedded');
    });

    it('runs with Ctrl+Enter and cancels with Escape', async () => {
      await page.locator('body').click({ position: { x: 2, y: 300 } });
      await setKs(page, [1, 2, 3, 4, 5, 6, 7, 8]);
      await page.getByTestId('max-new-tokens-input').fill('400');
      await page.getByTestId('max-new-tokens-input').press('Control+Enter');
      await expect
        .poll(() => page.getByTestId('progress').getAttribute('data-status'))
        .toBe('running');
      await expect
        .poll(() => page.getByTestId('progress').getAttribute('data-begun'), { timeout: 60_000 })
        .toBe('true');
      await page.keyboard.press('Escape');
      await expect
        .poll(() => page.getByTestId('progress').getAttribute('data-status'), { timeout: 60_000 })
        .toBe('cancelled');
      await idle(page);
    });

    it('keeps what is on screen when an attempt is refused, and shows the error beside its cause', async () => {
      await runSweep(page, 30, [1, 2]);
      await idle(page);
      expect(await resultRows(page)).toBe(3);
      const tokens = await page.getByTestId('token').count();
      expect(tokens).toBeGreaterThan(5);

      // a folder that does not exist: the engine refuses it
      await page.getByTestId('target-source-kind').selectOption('folder');
      await page.getByTestId('target-dir-input').fill('/no/such/model-folder');
      await pressRun(page);
      const error = page.locator('#host-error-pair');
      await error.waitFor({ state: 'visible' });
      expect(await error.textContent()).toContain('/no/such/model-folder');
      // in the app's words: no CLI flags
      expect(await error.textContent()).not.toMatch(/--[a-z]/);
      // beside the folder field, which names it
      expect(await page.getByTestId('target-dir-input').getAttribute('aria-describedby')).toContain(
        'host-error-pair',
      );
      const field = (await page.getByTestId('target-picker').boundingBox())!;
      const box = (await error.boundingBox())!;
      expect(box.y).toBeGreaterThan(field.y);
      expect(box.y - (field.y + field.height)).toBeLessThan(400);
      expect(await page.locator('#host-error-run').count()).toBe(0);
      // nothing on screen was cleared
      expect(await resultRows(page)).toBe(3);
      expect(await page.getByTestId('token').count()).toBe(tokens);
      expect(await page.getByTestId('progress').textContent()).toMatch(
        /did not start .*results on screen are unchanged/,
      );
      await page.screenshot({ path: join(SHOTS, 'error-pair-folder.png') });

      // fixing the input takes the stale message away
      await page.getByTestId('target-dir-input').fill('/no/such/other-folder');
      expect(await error.count()).toBe(0);
      await page.getByTestId('target-source-kind').selectOption('embedded');

      // more new tokens than the pair's context holds (the embedded pair: 512) is refused as
      // typed, before any request
      await page.getByTestId('max-new-tokens-input').fill('100000');
      expect(await page.getByTestId('run-button').isDisabled()).toBe(true);
      expect(await page.locator('#max-new-tokens-error').textContent()).toBe(
        "At most 511 new tokens with this pair: its models hold 512 tokens, the prompt's included.",
      );
      await page.getByTestId('max-new-tokens-input').fill('511');
      expect(await page.getByTestId('run-button').isEnabled()).toBe(true);

      // Run is off while a field is wrong, and says why beside it
      await page.getByTestId('max-new-tokens-input').fill('0');
      expect(await page.getByTestId('run-button').isDisabled()).toBe(true);
      expect(await page.getByTestId('run-button').getAttribute('aria-describedby')).toContain(
        'run-off-reason',
      );
      expect(await page.getByTestId('run-off-reason').textContent()).toContain('Max new tokens');
      await page.getByTestId('max-new-tokens-input').fill('30');
      expect(await page.getByTestId('run-button').isEnabled()).toBe(true);
    });

    for (const [width, height] of [
      [1440, 900],
      [1024, 700],
    ] as const) {
      it(`shows an over-long prompt's error under the prompt, linked to it, until the prompt changes, at ${width}x${height}`, async () => {
        await page.setViewportSize({ width, height });
        // the window's new width folds or unfolds the set-up first
        await expect
          .poll(() => page.getByTestId('setup-toggle').getAttribute('aria-expanded'))
          .toBe(width >= 1200 ? 'true' : 'false');
        await idle(page);
        await openSetup();
        const promptInput = page.getByTestId('prompt-input');
        const seedPrompt = await promptInput.inputValue();
        const before = await page.getByTestId('token').count();
        // 3,000 words: the prompt alone overflows the embedded pair's 512 tokens
        await promptInput.fill(Array.from({ length: 3000 }, (_, i) => `word${i % 50}`).join(' '));
        await page.getByTestId('max-new-tokens-input').fill('30');
        await pressRun(page);
        const error = page.locator('#host-error-prompt');
        await error.waitFor({ state: 'visible' });
        // the prompt's fault, in those words: not max new tokens'
        expect(await error.textContent()).toMatch(
          /The prompt is \d+ tokens and the models hold 512 in all, so no new token fits\. Shorten it/,
        );
        expect(await error.textContent()).not.toMatch(/max new tokens|--[a-z]|SPECDEC_/i);
        expect(await page.locator('#host-error-maxNewTokens').count()).toBe(0);
        expect(await page.locator('#host-error-run').count()).toBe(0);
        // under the prompt, and the prompt names it
        expect(await promptInput.getAttribute('aria-describedby')).toContain('host-error-prompt');
        expect(await promptInput.getAttribute('aria-invalid')).toBe('true');
        const field = (await promptInput.boundingBox())!;
        const box = (await error.boundingBox())!;
        expect(box.y).toBeGreaterThanOrEqual(field.y + field.height - 1);
        expect(box.y - (field.y + field.height)).toBeLessThan(40);
        await onScreen(error, 'the prompt error');
        expect(await page.getByTestId('progress').textContent()).toContain(
          'the reason is beside Prompt in Set-up',
        );
        // the stream's header is not covered: what is drawn at its heading is the heading
        const streamTitle = page.locator('#stream-title');
        if (width >= 1200) await onScreen(streamTitle, 'the stream header', 10);
        expect(await page.getByTestId('token').count()).toBe(before);
        await page.screenshot({
          path: join(SHOTS, width >= 1200 ? 'error-at-cause.png' : 'error-at-cause-1024.png'),
        });

        // restoring the prompt takes the error away, and the toolbar's pointer to it
        await promptInput.fill(seedPrompt);
        expect(await error.count()).toBe(0);
        expect(await promptInput.getAttribute('aria-describedby')).toBeNull();
        expect(await page.getByTestId('progress').textContent()).not.toContain('the reason is');
        // and it stays away through K edits and a pair switch
        await setKs(page, [1, 3]);
        await page.getByTestId('target-source-kind').selectOption('folder');
        await page.getByTestId('target-source-kind').selectOption('embedded');
        expect(await page.locator('[id^="host-error-"]').count()).toBe(0);
        expect(await page.getByTestId('run-button').isEnabled()).toBe(true);
      });
    }

    it('shows an error no set-up control caused under Run, in the flow: it covers neither the stream header nor, at 1024, the drawer', async () => {
      // the engine's answer to the next sweep is replaced by an error of no set-up control
      let refuse = true;
      await page.routeWebSocket(/.*/, (ws) => {
        const server = ws.connectToServer();
        ws.onMessage((message) => {
          const request = JSON.parse(String(message)) as { type: string; requestId?: string };
          if (refuse && request.type === 'sweep') {
            refuse = false;
            ws.send(
              JSON.stringify({
                type: 'error',
                requestId: request.requestId,
                code: 'BAD_ARGUMENT',
                message: 'The engine is busy with a sweep. Cancel it or wait for it to finish.',
              }),
            );
          } else server.send(message);
        });
      });
      try {
        for (const [width, height] of [
          [1440, 900],
          [1024, 700],
        ] as const) {
          await page.setViewportSize({ width, height });
          await page.reload();
          refuse = true;
          await expect.poll(() => page.getByTestId('run-button').isEnabled()).toBe(true);
          await pressRun(page);
          const error = page.locator('#host-error-run');
          await error.waitFor({ state: 'visible' });
          expect(await page.getByTestId('run-button').getAttribute('aria-describedby')).toContain(
            'host-error-run',
          );
          const errorBox = (await error.boundingBox())!;
          const run = (await page.getByTestId('run-button').boundingBox())!;
          expect(errorBox.y, 'the error is under Run').toBeGreaterThanOrEqual(run.y + run.height);
          // nothing overlaps it, and it overlaps nothing: the stream's header is below it
          const title = (await page.locator('#stream-title').boundingBox())!;
          expect(title.y, 'the stream header is below the error').toBeGreaterThanOrEqual(
            errorBox.y + errorBox.height,
          );
          const hit = async (x: number, y: number): Promise<string | null> =>
            page.evaluate(
              ([px, py]) => {
                const el = document.elementFromPoint(px!, py!);
                return el?.closest('#host-error-run, #stream-title, #setup-pane')?.id ?? null;
              },
              [x, y],
            );
          expect(await hit(errorBox.x + 8, errorBox.y + errorBox.height / 2)).toBe(
            'host-error-run',
          );
          expect(await hit(title.x + 4, title.y + title.height / 2)).toBe('stream-title');
          await onScreen(page.getByTestId('chart-time'), `Time vs K beside the error`, 200);
          await onScreen(page.getByTestId('step-detail'), `the position view's summary`, 15);
          if (width < 1200) {
            // the drawer opens below the error, not over its first words
            await openSetup();
            expect(await hit(errorBox.x + 8, errorBox.y + errorBox.height / 2)).toBe(
              'host-error-run',
            );
            const drawer = (await page.getByTestId('setup-pane').boundingBox())!;
            expect(drawer.y).toBeGreaterThanOrEqual(errorBox.y + errorBox.height);
            await page.screenshot({ path: join(SHOTS, 'error-under-run-1024.png') });
            await page.getByTestId('setup-toggle').click();
          } else {
            await page.screenshot({ path: join(SHOTS, 'error-under-run.png') });
          }
          // dismissing it gives the room back
          await error.getByRole('button', { name: 'Dismiss the error message' }).click();
          expect(await error.count()).toBe(0);
        }
      } finally {
        await page.unrouteAll();
        await page.reload();
        await expect.poll(() => page.getByTestId('run-button').isEnabled()).toBe(true);
        await openSetup();
      }
    });

    it('races the baseline against the fastest K at their recorded pace', async () => {
      // K=2 on the seed prompt's loop is clearly faster than the baseline (about 1.8x)
      await runSweep(page, 150, [2]);
      await idle(page);
      expect(await resultRows(page)).toBe(2);
      // the race's default is the verdict's configuration, whether or not it beat the baseline
      const best = (await verdictOnScreen(page)).label;
      await page.getByTestId('race').scrollIntoViewIfNeeded();
      expect(await page.getByTestId('race-left').locator('option:checked').textContent()).toBe(
        'Baseline',
      );
      expect(await page.getByTestId('race-right').locator('option:checked').textContent()).toBe(
        best,
      );
      await page.getByTestId('race-slow').selectOption('20');
      await page.getByTestId('race-start').click();
      const clocks = page.getByTestId('race-clock');
      await expect.poll(() => clocks.count()).toBe(2);
      const t0 = Number.parseFloat((await clocks.first().textContent())!);
      await page.waitForTimeout(400);
      const t1 = Number.parseFloat((await clocks.first().textContent())!);
      expect(t1).toBeGreaterThan(t0); // the clock ticks
      await expect
        .poll(() => page.locator('[data-testid="race-lane"][data-done="true"]').count(), {
          timeout: 60_000,
        })
        .toBe(2);
      const tokens = await page.getByTestId('race-tokens').allTextContents();
      expect(tokens).toEqual(['150 of 150 tokens, done', '150 of 150 tokens, done']);
      const result = (await page.getByTestId('race-result').textContent())!;
      const m =
        /^(.+) finished first, in (\d+\.\d+) s: by then (.+) had (\d+) of 150 tokens\. .+ took (\d+\.\d+) s, (\d+\.\d+)x as long\.$/.exec(
          result,
        );
      expect(m, result).not.toBeNull();
      const [, winner, winS, loser, had, loseS] = m!;
      expect(new Set([winner, loser])).toEqual(new Set(['Baseline', best]));
      expect(Number(winS)).toBeLessThanOrEqual(Number(loseS));
      // the loser had not finished when the winner did (unless the two were within a step's
      // time of each other: the times of one repeat on a busy machine can be close)
      if (Number(winS) < 0.8 * Number(loseS)) expect(Number(had)).toBeLessThan(150);
      else expect(Number(had)).toBeLessThanOrEqual(150);
      // the times are the runs' own, as the table has them (one repeat: the median is the run)
      const timeOf = async (label: string): Promise<string> =>
        (await page.locator(`[data-label="${label}"] td`).first().textContent())!.trim();
      expect(await timeOf(winner!)).toBe(winS);
      expect(await timeOf(loser!)).toBe(loseS);
      await page.getByTestId('race').screenshot({ path: join(SHOTS, 'race.png') });
    });

    it('shows both models’ top 5 at a picked position, asking the engine only while open', async () => {
      await page.getByTestId('run-select').selectOption({ label: 'K=2' });
      await page.getByTestId('step-scrubber').evaluate((el) => {
        const input = el as HTMLInputElement;
        input.value = input.max;
        input.dispatchEvent(new Event('input', { bubbles: true }));
      });
      const accepted = page.locator('[data-testid="token"][data-kind="accepted"]').nth(3);
      // closed: picking a token asks nothing
      await accepted.click();
      const detail = page.getByTestId('step-detail');
      await detail.locator('summary').click();
      expect(await page.getByTestId('detail-table').count()).toBe(0);
      await accepted.click();
      const table = page.getByTestId('detail-table');
      await table.waitFor({ state: 'visible' });
      expect(await page.getByTestId('detail-row').count()).toBe(5);
      expect(await page.getByTestId('detail-facts').textContent()).toMatch(/drafted .+, accepted/);
      // greedy and accepted: the drafted token is both models' top choice
      expect(await page.getByTestId('detail-target').first().getAttribute('class')).toContain(
        'drafted',
      );
      expect(await page.getByTestId('detail-draft').first().getAttribute('class')).toContain(
        'drafted',
      );
      const probs = await page.locator('[data-testid="detail-row"] td.num').allTextContents();
      expect(probs.every((p) => /^[01]\.\d{3}$/.test(p.trim()))).toBe(true);
      // a correction: the draft there was rejected, and the target's top token is what it wrote
      await page.locator('[data-testid="token"][data-kind="correction"]').first().click();
      await expect
        .poll(() => page.getByTestId('detail-facts').textContent())
        .toMatch(/drafted [\s\S]+, rejected,\s+the target wrote [\s\S]+\(correction\)/);
      await table.waitFor({ state: 'visible' });
      expect(await page.getByTestId('detail-target').first().getAttribute('class')).toContain(
        'emitted',
      );
      // at both sizes the view keeps Time vs K readable: it scrolls, the chart does not shrink
      await page.evaluate(() => window.scrollTo(0, 0));
      for (const [width, height] of [
        [1024, 700],
        [1440, 900],
      ] as const) {
        await page.setViewportSize({ width, height });
        await onScreen(
          page.getByTestId('chart-time'),
          `Time vs K, position view open, ${width}`,
          250,
        );
        await onScreen(page.getByTestId('step-detail'), `the position view at ${width}`, 100);
        await table.scrollIntoViewIfNeeded();
        await onScreen(table, 'the step detail', 40);
        await page.screenshot({
          path: join(SHOTS, width < 1200 ? 'position-view-1024.png' : 'step-detail.png'),
        });
      }
      await detail.locator('summary').click();
    });
  },
);
