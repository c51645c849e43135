/**
 * A tree graph that disagrees with the model's own passes is refused with the difference, and the
 * model, whose session was released before the tree graph opened, opens its graph again and goes
 * on as it was (treeGraph.ts). The disagreement is forced by a tolerance no difference meets.
 */
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { OnnxCausalLM } from '../../src/core/model/causalLm';
import { readModelFolder } from '../../src/core/model/modelFolder';
import { ROOT } from '../support/helpers';

vi.mock('../../src/core/model/treeMaskSession', async (original) => ({
  ...(await original<typeof import('../../src/core/model/treeMaskSession')>()),
  TREE_MASK_TOLERANCE: -1,
}));

describe('a tree graph refused at its check', () => {
  it('leaves the model on its own graph, reopened, computing what it did', async () => {
    const dir = join(ROOT, 'test', 'fixtures', 'hub-layouts', 'qwen2.5-0.5b-tiny');
    const lm = await OnnxCausalLM.open(readModelFolder(dir, 'onnx/model_q4.onnx'));
    try {
      const prompt = [3, 14, 15, 92, 65];
      const before = (await lm.forward(prompt)).row(prompt.length - 1).slice();
      lm.reset();
      await expect(lm.prepareTreeMask()).rejects.toThrow(
        /tree graph's logits differ from the export's by .*--tree-verify rows/,
      );
      expect([lm.passGraph, lm.openSessions]).toEqual(['model', 1]);
      expect(lm.takesTreeMask).toBe(false);
      expect(lm.treeMaskNote).toMatch(/logits differ/);
      const after = (await lm.forward(prompt)).row(prompt.length - 1);
      expect(Array.from(after)).toEqual(Array.from(before));
    } finally {
      await lm.release();
    }
  });
});
