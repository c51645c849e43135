/**
 * Token trees under the repetition controls: every row, the draft's and the target's, processed
 * with its own node's path as text (as a chain's row i counts the drafts before it), so greedy
 * tree output stays token for token the processed baseline's, for static shapes and node
 * budgets, under the tree mask and as rows, on the micro fixture pair and the embedded pair.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaselineRun } from '../../src/core/decoding/baseline';
import type { RepetitionParams } from '../../src/core/decoding/repetition';
import { TreeRun } from '../../src/core/decoding/tree/treeRun';
import { loadPair, releasePair, type ModelPair } from '../../src/core/model/pair';
import type { EngineEvent, TreeVerifyMode } from '../../src/shared/events';
import { MICRO_A, MICRO_B, PAIR_DRAFT, PAIR_TARGET } from '../support/helpers';
import { checkEvents } from '../support/runEvents';

const SETTINGS: RepetitionParams[] = [
  { penalty: 1, noRepeatNgram: 3 },
  { penalty: 1.3, noRepeatNgram: 0 },
  { penalty: 1.2, noRepeatNgram: 2 },
];
const TREES: Array<{ shape: number[] } | { budget: number }> = [
  { shape: [3, 2, 1] },
  { shape: [2, 2, 2, 2] },
  { budget: 16 },
];
const MODES: TreeVerifyMode[] = ['mask', 'rows'];

// micro-b's greedy drafts never stand under micro-a; the embedded pair's often do
describe.each([
  ['the fixtures (micro-a, micro-b)', MICRO_A, MICRO_B, 'The old man said', false],
  [
    'the embedded pair',
    PAIR_TARGET,
    PAIR_DRAFT,
    'Artificial intelligence is rapidly transforming our world by',
    true,
  ],
] as const)(
  'greedy token trees under repetition controls on %s',
  (_name, target, draft, prompt, accepts) => {
    let pair: ModelPair;
    beforeAll(async () => {
      pair = await loadPair(target, draft);
    });
    afterAll(() => releasePair(pair));
    const maxNewTokens = 40;

    it.each(SETTINGS)('is the processed baseline, token for token: %j', async (repetition) => {
      const base = await new BaselineRun(pair, { prompt, maxNewTokens, repetition }).runToEnd();
      const plain = await new BaselineRun(pair, { prompt, maxNewTokens }).runToEnd();
      // the controls change the text here, so agreeing with the processed baseline means something
      expect(base.outputTokenIds).not.toEqual(plain.outputTokenIds);
      for (const tree of TREES) {
        for (const verify of MODES) {
          const run = new TreeRun(pair, { prompt, maxNewTokens, ...tree, verify, repetition });
          const events: EngineEvent[] = [];
          for await (const ev of run.events()) events.push(ev);
          const result = await run.runToEnd();
          const label = `${JSON.stringify(tree)} ${verify}`;
          expect(result.outputTokenIds, label).toEqual(base.outputTokenIds);
          checkEvents(events, result);
          expect(result.metrics.draftedTokens, label).toBeGreaterThan(0);
          if (accepts) expect(result.metrics.acceptedTokens, label).toBeGreaterThan(0);
        }
      }
    });
  },
);
