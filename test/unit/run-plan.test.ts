/** The run plan (src/lab/runPlan.ts): the one place where the CLI's and the app's settings become what the engine runs. */
import assert from 'node:assert/strict';
import { it } from 'vitest';
import { livePlan, modelSpecOf, sweepPlan, type SweepPlanSettings } from '../../src/lab/runPlan';
import { DEFAULT_WARMUP } from '../../src/shared/defaults';
import { SpecDecError } from '../../src/core/errors';
import { MAX_ACCEPTANCE_TARGETS } from '../../src/shared/limits';
import { SweepSettings } from '../../src/shared/settings';

const model = { source: null, dtype: 'fp32', ep: 'auto' } as const;

const settings: SweepPlanSettings = {
  prompts: ['Once upon a time'],
  maxNewTokens: 24,
  ks: [1, 2, 4],
  repeats: 2,
  policies: ['fixed', 'heuristic'],
  drafters: ['model'],
  pMin: 0.5,
  sampling: null,
  repetition: null,
};

it('a sweep plan is the config runSweep takes: null sampling and repetition are absent, the surface sets warm-up and the no-cache baseline', () => {
  const cli = sweepPlan(settings, { warmup: 3, noKvCache: true });
  // the order is the CLI's --json `config`
  assert.deepEqual(Object.keys(cli), [
    'prompts',
    'maxNewTokens',
    'ks',
    'repeats',
    'warmup',
    'noKvCache',
    'policies',
    'pMin',
    'drafters',
  ]);
  assert.equal(cli.warmup, 3);
  assert.equal(cli.noKvCache, true);
  const app = sweepPlan(
    {
      ...settings,
      sampling: { temperature: 0.8, topK: 20, topP: 1, seed: 3 },
      repetition: { penalty: 1, noRepeatNgram: 3 },
    },
    { reportProbabilities: true },
  );
  assert.equal(app.warmup, DEFAULT_WARMUP);
  assert.equal(app.noKvCache, false);
  assert.equal(app.reportProbabilities, true);
  assert.deepEqual(app.sampling, { temperature: 0.8, topK: 20, topP: 1, seed: 3 });
  assert.deepEqual(app.repetition, { penalty: 1, noRepeatNgram: 3 });
});

it('a plan is checked before any model work, with the engine’s own message', () => {
  assert.throws(
    () => sweepPlan({ ...settings, ks: [0] }),
    (err: unknown) => err instanceof SpecDecError && err.code === 'K_OUT_OF_RANGE',
  );
  assert.throws(
    () => sweepPlan({ ...settings, policies: ['confidence'], drafters: ['prompt-lookup'] }),
    SpecDecError,
  );
});

it('controlled acceptance from the app’s settings reaches the engine as the CLI’s --acceptance does, refused where the oracle cannot run', () => {
  const app = sweepPlan({ ...settings, acceptance: [0.6, 0.9] });
  const cli = sweepPlan(settings, { acceptance: [0.6, 0.9] });
  assert.deepEqual(app.acceptance, [0.6, 0.9]);
  assert.deepEqual(app, cli);
  assert.equal(sweepPlan(settings).acceptance, undefined);
  const refused = (extra: Partial<SweepPlanSettings>, words: RegExp): void =>
    assert.throws(
      () => sweepPlan({ ...settings, acceptance: [0.8], ...extra }),
      (err: unknown) => err instanceof SpecDecError && words.test(err.message),
    );
  refused({ sampling: { temperature: 0.8, topK: 0, topP: 1, seed: 1 } }, /needs greedy decoding/);
  refused({ drafters: ['prompt-lookup'] }, /makes no draft-model passes/);
  refused({ policies: ['confidence'] }, /confidence policy/);
});

it('the protocol takes 1 to MAX_ACCEPTANCE_TARGETS distinct targets strictly between 0 and 1', () => {
  const sweep = { pair: { target: model, draft: model, offline: true }, ...settings };
  assert.equal(SweepSettings.safeParse({ ...sweep, acceptance: [0.5, 0.8] }).success, true);
  assert.equal(SweepSettings.safeParse(sweep).success, true);
  for (const acceptance of [
    [],
    [0],
    [1],
    [0.5, 0.5],
    [1.2],
    Array.from({ length: MAX_ACCEPTANCE_TARGETS + 1 }, (_, i) => (i + 1) / 100),
  ])
    assert.equal(
      SweepSettings.safeParse({ ...sweep, acceptance }).success,
      false,
      JSON.stringify(acceptance),
    );
});

it('a live step-through is a one-K, one-prompt sweep without warm-up', () => {
  const live = livePlan({
    prompt: 'Hello',
    maxNewTokens: 10,
    k: 3,
    policy: 'confidence',
    drafter: 'model',
    pMin: 0.4,
    sampling: null,
  });
  assert.deepEqual(
    { prompts: live.prompts, ks: live.ks, repeats: live.repeats, warmup: live.warmup },
    { prompts: ['Hello'], ks: [3], repeats: 1, warmup: 0 },
  );
  assert.deepEqual([live.policies, live.drafters, live.pMin], [['confidence'], ['model'], 0.4]);
});

it('a model spec: a null source is the embedded pair’s model; placement only where it is given', () => {
  const choice = { source: null, dtype: 'fp32', ep: 'auto' } as const;
  assert.deepEqual(modelSpecOf(choice, '/models/target'), {
    source: '/models/target',
    dtype: 'fp32',
    ep: 'auto',
  });
  assert.deepEqual(
    modelSpecOf({ ...choice, source: 'gpt2' }, '/models/target', {
      kvLocation: 'host',
      graph: 'exported',
      threads: 0,
    }),
    {
      source: 'gpt2',
      dtype: 'fp32',
      ep: 'auto',
      kvLocation: 'host',
      graph: 'exported',
      threads: 0,
    },
  );
});

it('token trees: the app’s settings reach the plan exactly as the CLI’s options do, and are refused the same way', () => {
  const trees = { trees: [[3, 2, 1]], treeBudgets: [16], treeVerify: ['mask', 'rows'] as const };
  const fromCli = sweepPlan(settings, {
    trees: trees.trees,
    treeBudgets: trees.treeBudgets,
    treeVerify: [...trees.treeVerify],
  });
  const fromApp = sweepPlan({ ...settings, ...trees, treeVerify: [...trees.treeVerify] });
  assert.deepEqual(fromApp, fromCli);
  assert.deepEqual(
    [fromApp.trees, fromApp.treeBudgets, fromApp.treeVerify],
    [[[3, 2, 1]], [16], ['mask', 'rows']],
  );
  // without trees the plan has none (its --json config is unchanged)
  assert.equal('trees' in sweepPlan(settings), false);
  // under controlled acceptance a budget is refused (its shape follows the draft's probabilities)
  assert.throws(
    () => sweepPlan({ ...settings, ...trees, treeVerify: ['auto'], acceptance: [0.8] }),
    (err: unknown) =>
      err instanceof SpecDecError &&
      /sweep static shapes \(--tree 3,2,1\) with --acceptance/.test(err.message),
  );
  // static shapes run at every acceptance target, the chains' way
  const controlled = sweepPlan({ ...settings, trees: [[3, 2, 1]], acceptance: [0.5, 0.8] });
  assert.deepEqual([controlled.trees, controlled.acceptance], [[[3, 2, 1]], [0.5, 0.8]]);
  // the protocol checks a shape against the same limits before it crosses
  const request = { pair: { target: model, draft: model, offline: false }, ...settings };
  assert.equal(SweepSettings.safeParse({ ...request, trees: [[3, 2, 1]] }).success, true);
  assert.equal(SweepSettings.safeParse({ ...request, trees: [[9, 9]] }).success, false);
});
