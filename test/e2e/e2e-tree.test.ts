/**
 * End to end in real Chromium against `serve`, on the embedded pair: token trees from the app
 * (issue 35). Trees are refused at their control with the engine's reasons (a node budget with
 * sampling, a KV cache on the device); a sweep of tree 3,2,1 and a budget-16 tree
 * beside K=3 draws the chosen tree run's step in focus (its nodes are the verify event's, as the
 * steps CSV exports them; the accepted path is the step's accepted tokens), stepping walks the
 * trees, and the scatter of time against tokens per target pass has one point per configuration.
 * Under controlled acceptance (greedy static shapes), a sweep of K=1,2 and tree 2,1 at alpha 0.5
 * and 0.9 puts the trees under the heat map (their rows are the exported runs'), keeps the
 * oracle's points in a series per alpha on the scatter, and says in the tree panel whose
 * probabilities an oracle run's nodes carry; a node budget with acceptance is refused at the control.
 * Screenshots at 1440x900 and 1024x700 go to test-results/screenshots.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TREE_ACCEPTANCE_BUDGET_REFUSAL } from '../../src/shared/treeAcceptance';
import {
  chromiumMissing,
  idle,
  openApp,
  painted,
  pressRun,
  resultRows,
  setKs,
  SHOTS,
  type BrowserApp,
} from '../support/browserApp';

const missing = chromiumMissing;

let app: BrowserApp;
let page: Page;

beforeAll(async () => {
  if (missing) return;
  app = await openApp('e2e-tree');
  ({ page } = app);
});

afterAll(async () => {
  await app?.close();
});

type StepRow = Record<string, string>;

/** a CSV the app exports (`export-steps`: the run on screen's; `export-runs`: the sweep's) */
async function exportCsv(testid: 'export-steps' | 'export-runs'): Promise<StepRow[]> {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId(testid).click(),
  ]);
  return parse(readFileSync(await download.path(), 'utf8'), { columns: true }) as StepRow[];
}

/** the steps CSV of the run on screen, as the app exports it */
const exportSteps = (): Promise<StepRow[]> => exportCsv('export-steps');

/** the tree panel's nodes as drawn: node index, token id, verdict */
function drawnNodes(): Promise<Array<{ node: number; token: number; verdict: string }>> {
  return page
    .getByTestId('tree-card')
    .getByTestId('tree-panel')
    .getByTestId('tree-node')
    .evaluateAll((els) =>
      els.map((e) => ({
        node: Number(e.getAttribute('data-node')),
        token: Number(e.getAttribute('data-token')),
        verdict: e.getAttribute('data-verdict') ?? '',
      })),
    );
}

/** the tree's step on screen matches that step's verify event, node for node */
async function expectTreeOfStep(rows: StepRow[]): Promise<number> {
  const step = Number(await page.getByTestId('tree-card').getAttribute('data-step'));
  expect(step).toBeGreaterThan(0);
  const nodes = rows.filter((r) => r.type === 'verify' && Number(r.step) === step);
  // drawn depth first (each branch's nodes together); compared in the event's order
  const drawn = (await drawnNodes()).sort((a, b) => a.node - b.node);
  expect(drawn).toHaveLength(nodes.length);
  expect(drawn.map((d) => d.node)).toEqual(nodes.map((n) => Number(n.node)));
  expect(drawn.map((d) => d.token)).toEqual(nodes.map((n) => Number(n.tokenId)));
  expect(drawn.map((d) => d.verdict)).toEqual(nodes.map((n) => n.verdict));
  // the accepted path drawn is the step's accepted tokens, root to leaf
  const accepted = rows
    .filter((r) => r.type === 'emit' && Number(r.step) === step && r.kind === 'accepted')
    .map((r) => Number(r.tokenId));
  const onPath = drawn.filter((d) => d.verdict === 'accepted').map((d) => d.token);
  expect(onPath).toEqual(accepted);
  // and it ends in the target's own token, a correction or a bonus
  const end = rows.find(
    (r) =>
      r.type === 'emit' &&
      Number(r.step) === step &&
      (r.kind === 'correction' || r.kind === 'bonus'),
  );
  const endNode = page
    .getByTestId('tree-card')
    .getByTestId('tree-panel')
    .locator('[data-testid="tree-end"]');
  if (end) expect(await endNode.getAttribute('data-verdict')).toBe(end.kind);
  else expect(await endNode.count()).toBe(0);
  return step;
}

describe.skipIf(missing !== null)(
  `token trees in Chromium${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    it('refuses a budget with sampling, and trees with a device KV cache, at the control', async () => {
      await expect.poll(() => page.getByTestId('run-button').isEnabled()).toBe(true);
      const input = page.getByTestId('tree-shape-input');
      await input.fill('8,8');
      await page.getByTestId('tree-shape-add').click();
      expect(await page.getByTestId('tree-message').textContent()).toMatch(/more than 64/);
      await input.fill('3,2,1');
      await input.press('Enter');
      await page.getByTestId('tree-chip-3,2,1').waitFor();
      await page.getByTestId('tree-budget-input').fill('16');
      await page.getByTestId('tree-budget-add').click();
      await page.getByTestId('tree-chip-budget-16').waitFor();

      const control = page.getByTestId('tree-control');
      const error = page.getByTestId('tree-error');
      await page.getByTestId('decoding-sampling').check();
      expect(await error.textContent()).toMatch(/node budget.*choose Greedy/);
      expect(await control.getAttribute('aria-describedby')).toContain('trees-error');
      expect(await page.getByTestId('run-button').isEnabled()).toBe(false);
      expect(await page.getByTestId('run-off-reason').textContent()).toContain('Token trees');
      await control.scrollIntoViewIfNeeded();
      await control.screenshot({ path: join(SHOTS, 'tree-refused.png') });
      // a static shape samples: without the budget the trees run
      await page.getByRole('button', { name: 'Remove tree budget 16' }).click();
      await expect.poll(() => error.count()).toBe(0);
      await page.getByTestId('decoding-greedy').check();
      await page.getByTestId('tree-budget-input').fill('16');
      await page.getByTestId('tree-budget-input').press('Enter');
      await page.getByTestId('tree-chip-budget-16').waitFor();

      // a KV cache on the device is no refusal: the engine gathers the accepted path there
      await page.getByTestId('target-ep').selectOption('webgpu');
      await expect.poll(() => error.count()).toBe(0);
      await page.getByTestId('target-ep').selectOption('auto');
      expect(await page.getByTestId('run-button').isEnabled()).toBe(true);
    });

    it('sweeps tree 3,2,1 and budget 16 beside K=3: the tree of the step in focus, stepping, the scatter', async () => {
      await page.getByTestId('max-new-tokens-input').fill('24');
      await page.getByTestId('repeats-input').fill('1');
      await setKs(page, [3]);
      await pressRun(page);
      await expect.poll(() => resultRows(page), { timeout: 180_000 }).toBe(4);
      await idle(page);
      const labels = await page
        .locator('[data-testid="results-row"], [data-testid="best-k-row"]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-label')));
      expect(labels).toEqual(expect.arrayContaining(['K=3', 'tree 3,2,1', 'tree budget 16']));

      // the tree run, chosen in the selector: shown whole, its last tree in the panel
      const select = page.getByTestId('run-select');
      const value = await select.locator('option', { hasText: 'tree 3,2,1' }).getAttribute('value');
      await select.selectOption(value!);
      const card = page.getByTestId('tree-card');
      await card.waitFor();
      const rows = await exportSteps();
      expect(Object.keys(rows[0]!)).toEqual(expect.arrayContaining(['node', 'parent', 'depth']));
      // a full 3,2,1 tree is 15 nodes
      const perStep = new Map<string, number>();
      for (const r of rows.filter((r) => r.type === 'verify'))
        perStep.set(r.step!, (perStep.get(r.step!) ?? 0) + 1);
      expect(Math.max(...perStep.values())).toBe(15);
      const last = await expectTreeOfStep(rows);

      // the strip says nodes per tree, with each tree's accepted path beside them
      const strip = page.getByTestId('k-strip');
      expect(await strip.getAttribute('data-kind')).toBe('tree');
      const nodesPerStep = ((await strip.getAttribute('data-ks')) ?? '').split(' ').map(Number);
      // a step without a tree (no room left to draft) counts 0
      const stepNumbers = nodesPerStep.map((_, i) => String(i + 1));
      expect(nodesPerStep).toEqual(stepNumbers.map((step) => perStep.get(step) ?? 0));
      const acceptedPerStep = ((await strip.getAttribute('data-accepted')) ?? '')
        .split(' ')
        .map(Number);
      expect(acceptedPerStep).toEqual(
        stepNumbers.map(
          (step) =>
            rows.filter((r) => r.type === 'emit' && r.step === step && r.kind === 'accepted')
              .length,
        ),
      );
      expect(await page.getByTestId('k-strip-summary').textContent()).toMatch(
        /^15 nodes in each of \d+ trees · accepted \d\.\d per tree \(most [0-3]\)$|^\d+ to 15 nodes over \d+ trees · accepted/,
      );
      expect(await page.getByTestId('step-label').textContent()).toMatch(
        /a tree of \d+ nodes, [1-3] deep \(at most 3\)|no tree \(no room to draft\)/,
      );

      // stepping walks the trees: a whole step back shows that step's tree
      await page.locator('body').click({ position: { x: 2, y: 300 } });
      await page.keyboard.press('Shift+ArrowLeft');
      await page.keyboard.press('Shift+ArrowLeft');
      await expect
        .poll(async () => Number(await card.getAttribute('data-step')))
        .toBeLessThan(last);
      const earlier = await expectTreeOfStep(rows);
      // one event forward from a step's end: the next step's first draft, its other nodes not yet
      await page.keyboard.press('ArrowRight');
      await expect.poll(async () => Number(await card.getAttribute('data-step'))).toBe(earlier + 1);
      const drafting = await drawnNodes();
      expect(drafting).toHaveLength(1);
      expect(drafting[0]!.verdict).toBe('pending');

      // the chain's run draws no tree
      const chain = await select.locator('option', { hasText: /^K=3/ }).getAttribute('value');
      await select.selectOption(chain!);
      await expect.poll(() => card.count()).toBe(0);

      // the scatter: one point per configuration, trees and chains apart, the best marked when
      // one beat the baseline
      const points = page.getByTestId('tree-scatter-point');
      await expect.poll(() => points.count()).toBe(4);
      const series = await points.evaluateAll((els) =>
        els.map((e) => e.getAttribute('data-series')),
      );
      expect(series.filter((s) => s === 'Trees')).toHaveLength(2);
      expect(series.filter((s) => s === 'Chains (K)')).toHaveLength(1);
      expect(series.filter((s) => s === 'Baseline')).toHaveLength(1);
      const bests = await page
        .locator('[data-testid="tree-scatter-point"][data-best="true"]')
        .count();
      const badged = await page.getByTestId('best-k-row').count();
      expect(bests).toBe(badged);
      const scatter = page.getByTestId('chart-tree-scatter');
      await scatter.scrollIntoViewIfNeeded();
      await expect.poll(() => painted(page, 'chart-tree-scatter')).toBeGreaterThan(0);
      // each point named on the chart, none left out for want of room
      await expect.poll(() => scatter.getAttribute('data-point-labels')).toBe('4/4');

      // screenshots: the tree of a step (3,2,1, then budget 16) beside the stream, and the scatter
      const budget = await select
        .locator('option', { hasText: 'tree budget 16' })
        .getAttribute('value');
      for (const [width, height] of [
        [1440, 900],
        [1024, 700],
      ] as const) {
        await page.setViewportSize({ width, height });
        for (const [run, name] of [
          [value!, 'tree-321'],
          [budget!, 'tree-budget16'],
        ] as const) {
          await select.selectOption(run);
          await card.waitFor();
          await page.locator('body').click({ position: { x: 2, y: 300 } });
          await page.keyboard.press('Shift+ArrowLeft');
          await page.keyboard.press('Shift+ArrowLeft');
          await page.evaluate(() => window.scrollTo(0, 0));
          await page.screenshot({ path: join(SHOTS, `${name}-${width}.png`) });
        }
        const figure = page.locator('figure', { has: scatter });
        await figure.scrollIntoViewIfNeeded();
        await figure.screenshot({ path: join(SHOTS, `tree-scatter-${width}.png`) });
      }
    });

    it('races a tree against the chain with each step’s tree drawn in its lane', async () => {
      await page.setViewportSize({ width: 1440, height: 900 });
      const race = page.getByTestId('race');
      const option = (select: string, label: RegExp): Promise<string | null> =>
        page
          .getByTestId(select)
          .locator('option', { hasText: label })
          .first()
          .getAttribute('value');
      await page.getByTestId('race-left').selectOption((await option('race-left', /^K=3/))!);
      await page
        .getByTestId('race-right')
        .selectOption((await option('race-right', /tree 3,2,1/))!);
      await page.getByTestId('race-slow').selectOption('1');
      await page.getByTestId('race-start').click();
      await race.getByTestId('race-result').waitFor({ timeout: 60_000 });
      await expect
        .poll(() => race.locator('[data-testid="race-lane"][data-done="true"]').count(), {
          timeout: 60_000,
        })
        .toBe(2);
      // the chain's lane draws no tree; the tree's draws its last step's, fully verified
      const lanes = race.getByTestId('race-lane');
      expect(await lanes.nth(0).getByTestId('race-tree').count()).toBe(0);
      const laneTree = lanes.nth(1).getByTestId('race-tree');
      const step = Number(await laneTree.getAttribute('data-step'));
      expect(step).toBeGreaterThan(0);
      const verdicts = await laneTree
        .getByTestId('tree-node')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-verdict')));
      expect(verdicts.length).toBeGreaterThan(0);
      expect(verdicts).not.toContain('pending');
      expect(await laneTree.getByTestId('race-tree-summary').textContent()).toMatch(
        new RegExp(`^step ${step} · ${verdicts.length} nodes · accepted \\d`),
      );
      for (const [width, height] of [
        [1440, 900],
        [1024, 700],
      ] as const) {
        await page.setViewportSize({ width, height });
        await race.scrollIntoViewIfNeeded();
        await race.screenshot({ path: join(SHOTS, `tree-race-${width}.png`) });
      }
    });

    it('steps a tree on the engine, its tree drawn at each step', async () => {
      await page.setViewportSize({ width: 1440, height: 900 });
      await page.evaluate(() => window.scrollTo(0, 0));
      const draft = page.getByTestId('live-draft');
      expect(await draft.locator('option').allTextContents()).toEqual([
        'a chain of K',
        'tree 3,2,1',
        'tree budget 16',
      ]);
      await page.getByTestId('live-k-input').fill('5');
      await draft.selectOption({ label: 'tree 3,2,1' });
      expect(await page.getByTestId('live-k-input').isDisabled()).toBe(true);
      // the tree's depth stands in the K field it replaces
      expect(await page.getByTestId('live-k-input').inputValue()).toBe('3');
      expect(await page.getByTestId('live-strategy').textContent()).toContain('Drafts tree 3,2,1');
      await page.getByTestId('live-start').click();
      const next = page.getByTestId('live-next');
      await expect.poll(() => next.isEnabled(), { timeout: 60_000 }).toBe(true);
      const card = page.getByTestId('tree-card');
      await expect.poll(async () => Number(await card.getAttribute('data-step'))).toBe(1);
      await next.click();
      await expect.poll(() => next.isEnabled(), { timeout: 60_000 }).toBe(true);
      await expect.poll(async () => Number(await card.getAttribute('data-step'))).toBe(2);
      expect(await page.getByTestId('run-select').inputValue()).not.toBe('');
      expect(await page.getByTestId('live-error').count()).toBe(0);
      // step 2's tree, verified: its nodes and accepted path are those the strip counts from
      // the step's verify event (a running run's steps are exported once it finishes)
      const strip = page.getByTestId('k-strip');
      expect(await strip.getAttribute('data-kind')).toBe('tree');
      const drawn = await drawnNodes();
      expect(drawn.map((d) => d.verdict)).not.toContain('pending');
      const ks = ((await strip.getAttribute('data-ks')) ?? '').split(' ').map(Number);
      const accepted = ((await strip.getAttribute('data-accepted')) ?? '').split(' ').map(Number);
      expect(ks).toHaveLength(2);
      expect(drawn).toHaveLength(ks[1]!);
      expect(ks[1]).toBe(15);
      expect(drawn.filter((d) => d.verdict === 'accepted')).toHaveLength(accepted[1]!);
      expect(await page.getByTestId('tree-card').getByTestId('tree-end').count()).toBe(1);
      for (const [width, height] of [
        [1440, 900],
        [1024, 700],
      ] as const) {
        await page.setViewportSize({ width, height });
        await page.evaluate(() => window.scrollTo(0, 0));
        await page.screenshot({ path: join(SHOTS, `tree-live-${width}.png`) });
      }
      // the chain again: the K input back, no tree drawn for a chain's step
      await page.setViewportSize({ width: 1440, height: 900 });
      await draft.selectOption({ label: 'a chain of K' });
      expect(await page.getByTestId('live-k-input').isDisabled()).toBe(false);
      expect(await page.getByTestId('live-k-input').inputValue()).toBe('5');
      await page.getByTestId('live-start').click();
      await expect.poll(() => next.isEnabled(), { timeout: 60_000 }).toBe(true);
      await expect.poll(() => card.count()).toBe(0);
      expect(await page.getByTestId('k-strip').getAttribute('data-kind')).toBe('chain');
    });

    it('names the trees swept on the History card', async () => {
      const entry = page.getByTestId('history-entry').first();
      await expect
        .poll(() => entry.getByTestId('history-trees').textContent(), { timeout: 30_000 })
        .toBe('tree 3,2,1 · tree budget 16 nodes');
      expect(await entry.getByTestId('history-acceptance').count()).toBe(0);
      for (const [width, height] of [
        [1440, 900],
        [1024, 700],
      ] as const) {
        await page.setViewportSize({ width, height });
        await entry.scrollIntoViewIfNeeded();
        await entry.screenshot({ path: join(SHOTS, `history-trees-${width}.png`) });
      }
    });
    it('sweeps tree 2,1 beside K=1,2 at alpha 0.5 and 0.9: the trees under the heat map, the scatter by alpha, the oracle named', async () => {
      await page.setViewportSize({ width: 1440, height: 900 });
      await page.evaluate(() => window.scrollTo(0, 0));
      const ALPHAS = [0.5, 0.9];
      await page.getByTestId('acceptance-add-input').fill(ALPHAS.join(', '));
      await page.getByTestId('acceptance-add-button').click();
      await page.getByTestId('acceptance-chip-0.9').waitFor();
      // a node budget cannot run under the oracle: the engine's reason, at the control
      const error = page.getByTestId('tree-error');
      await expect
        .poll(() => error.textContent())
        .toContain(TREE_ACCEPTANCE_BUDGET_REFUSAL.split(':')[0]);
      expect(await error.textContent()).not.toMatch(/--/);
      expect(await page.getByTestId('run-button').isEnabled()).toBe(false);
      expect(await page.getByTestId('run-off-reason').textContent()).toContain('Token trees');
      const control = page.getByTestId('tree-control');
      await control.scrollIntoViewIfNeeded();
      await control.screenshot({ path: join(SHOTS, 'tree-acceptance-refused.png') });
      await page.getByRole('button', { name: 'Remove tree budget 16' }).click();
      await expect.poll(() => error.count()).toBe(0);
      // greedy static shapes run with the targets
      await page.getByRole('button', { name: 'Remove tree 3,2,1' }).click();
      await page.getByTestId('tree-shape-input').fill('2,1');
      await page.getByTestId('tree-shape-add').click();
      await page.getByTestId('tree-chip-2,1').waitFor();
      await page.getByTestId('max-new-tokens-input').fill('40');
      await setKs(page, [1, 2]);
      await pressRun(page);
      // the baseline, then K=1, K=2 and tree 2,1 at each alpha
      await expect.poll(() => resultRows(page), { timeout: 240_000 }).toBe(1 + ALPHAS.length * 3);
      await idle(page);

      const runs = await exportCsv('export-runs');
      const grid = page.getByTestId('acceptance-grid');
      await grid.waitFor();
      const table = grid.getByTestId('grid-trees');
      const rows = table.getByTestId('grid-tree-row');
      await expect.poll(() => rows.count()).toBe(ALPHAS.length);
      // high alpha on top, as the map
      expect(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-alpha')))).toEqual(
        ['0.9', '0.5'],
      );
      for (const alpha of ALPHAS) {
        const row = table.locator(`[data-testid="grid-tree-row"][data-alpha="${alpha}"]`);
        expect(await row.getAttribute('data-label')).toBe(`tree 2,1 alpha ${alpha}`);
        // one repeat: the row's median is its run's, as the engine exported it
        const treeRun = runs.find(
          (r) => r.treeShape === '2,1' && Number(r.acceptanceTarget) === alpha,
        )!;
        expect(Number(await row.getAttribute('data-measured'))).toBeCloseTo(
          Number(treeRun.meanAcceptanceLength),
          6,
        );
        expect(Number(await row.getAttribute('data-speedup'))).toBeCloseTo(
          Number(treeRun.speedup),
          6,
        );
        // Sequoia's model for 2,1 at p_r = alpha: 1 + (1 - (1 - A)^2) (1 + A)
        expect(Number(await row.getAttribute('data-predicted'))).toBeCloseTo(
          1 + (1 - (1 - alpha) ** 2) * (1 + alpha),
          9,
        );
        // the fastest chain at this alpha, by the exported speedups
        const chains = runs.filter(
          (r) =>
            r.treeShape === '' && r.mode === 'speculative' && Number(r.acceptanceTarget) === alpha,
        );
        expect(chains.map((r) => Number(r.k)).sort()).toEqual([1, 2]);
        const fastest = chains.reduce((b, r) => (Number(r.speedup) > Number(b.speedup) ? r : b));
        expect(
          await table
            .locator(`[data-testid="grid-tree-chain"][data-alpha="${alpha}"]`)
            .getAttribute('data-k'),
        ).toBe(fastest.k);
        expect(
          await table
            .locator(`[data-testid="grid-tree-sentences"] li[data-alpha="${alpha}"]`)
            .textContent(),
        ).toMatch(
          new RegExp(
            `^At alpha ${alpha} \\(Sequoia's model with p_r = ${alpha}.*tree 2,1 verified`,
          ),
        );
      }
      expect(await table.getByTestId('grid-tree-pair').textContent()).toMatch(
        /^Your pair's own draft, behind the oracle/,
      );

      // the scatter: oracle points in a series per alpha, none among real drafting's
      const points = page.getByTestId('tree-scatter-point');
      await expect.poll(() => points.count()).toBe(1 + ALPHAS.length * 3);
      const series = await points.evaluateAll((els) =>
        els.map((e) => [e.textContent?.split(' (')[0]?.trim(), e.getAttribute('data-series')]),
      );
      expect(series.filter(([, s]) => s === 'Chains (K)' || s === 'Trees')).toHaveLength(0);
      for (const alpha of ALPHAS) {
        expect(series.filter(([, s]) => s === `Chains alpha ${alpha}`).map(([l]) => l)).toEqual([
          `K=1 alpha ${alpha}`,
          `K=2 alpha ${alpha}`,
        ]);
        expect(series.filter(([, s]) => s === `Trees alpha ${alpha}`).map(([l]) => l)).toEqual([
          `tree 2,1 alpha ${alpha}`,
        ]);
      }
      const scatter = page.getByTestId('chart-tree-scatter');
      await scatter.scrollIntoViewIfNeeded();
      await expect.poll(() => painted(page, 'chart-tree-scatter')).toBeGreaterThan(0);
      expect(await scatter.getAttribute('data-series')).toContain('Trees alpha 0.9');
      // every point named on the chart, the alpha in its name
      await expect
        .poll(() => scatter.getAttribute('data-point-labels'))
        .toBe(`${1 + ALPHAS.length * 3}/${1 + ALPHAS.length * 3}`);

      // an oracle tree run: the panel says whose probability each node carries
      const select = page.getByTestId('run-select');
      const oracleRun = await select
        .locator('option', { hasText: 'tree 2,1 alpha 0.9' })
        .getAttribute('value');
      await select.selectOption(oracleRun!);
      const card = page.getByTestId('tree-card');
      await card.waitFor();
      const note = (await card.getByTestId('tree-oracle').textContent())!.replace(/\s+/g, ' ');
      expect(note).toMatch(/alpha 0\.9.*the draft's real probability of the token placed/);

      for (const [width, height] of [
        [1440, 900],
        [1024, 700],
      ] as const) {
        await page.setViewportSize({ width, height });
        await grid.scrollIntoViewIfNeeded();
        await grid.screenshot({ path: join(SHOTS, `acceptance-trees-${width}.png`) });
        const figure = page.locator('figure', { has: scatter });
        await figure.scrollIntoViewIfNeeded();
        await figure.screenshot({ path: join(SHOTS, `tree-scatter-acceptance-${width}.png`) });
        await page.locator('body').click({ position: { x: 2, y: 300 } });
        await page.evaluate(() => window.scrollTo(0, 0));
        await page.screenshot({ path: join(SHOTS, `tree-oracle-${width}.png`) });
      }

      // a real drafting tree run (the first sweep's) names no oracle
      const realRun = await select
        .locator('option', { hasText: /^tree 3,2,1$/ })
        .first()
        .getAttribute('value');
      await select.selectOption(realRun!);
      await expect.poll(() => card.getByTestId('tree-summary').count()).toBe(1);
      await expect.poll(() => card.getByTestId('tree-oracle').count()).toBe(0);
    });
    it('opens the controlled tree sweep from History: its trees under the map, a saved oracle run named so', async () => {
      await page.setViewportSize({ width: 1440, height: 900 });
      await page.reload();
      const entry = page.getByTestId('history-entry').first();
      await expect
        .poll(() => entry.getByTestId('history-acceptance').textContent(), { timeout: 60_000 })
        .toBe('acceptance A = 0.5, 0.9');
      await entry.getByTestId('history-item').click();
      const table = page.getByTestId('grid-trees');
      await table.waitFor();
      expect(
        await table
          .getByTestId('grid-tree-row')
          .evaluateAll((els) => els.map((e) => e.getAttribute('data-label'))),
      ).toEqual(['tree 2,1 alpha 0.9', 'tree 2,1 alpha 0.5']);
      // a saved oracle tree run, its events fetched: the panel names the oracle
      const select = page.getByTestId('run-select');
      const saved = await select
        .locator('option', { hasText: 'tree 2,1 alpha 0.5' })
        .getAttribute('value');
      await select.selectOption(saved!);
      const card = page.getByTestId('tree-card');
      await card.waitFor({ timeout: 30_000 });
      await expect.poll(() => card.getByTestId('tree-oracle').textContent()).toMatch(/alpha 0\.5/);
    });
  },
);
