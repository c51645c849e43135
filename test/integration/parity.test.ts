/** The exported ONNX models against PyTorch, and the KV cache against full passes. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OnnxCausalLM } from '../../src/core/model/causalLm';
import { readModelFolder } from '../../src/core/model/modelFolder';
import { FIXTURES, PAIR_DRAFT, PAIR_TARGET, maxAbsDiff } from '../support/helpers';

interface Reference {
  sequences: Array<{ inputIds: number[]; logits: number[][] }>;
}
const reference = JSON.parse(
  readFileSync(join(FIXTURES, 'reference-logits.json'), 'utf8'),
) as Record<string, Reference>;

async function open(dir: string): Promise<OnnxCausalLM> {
  return OnnxCausalLM.open(readModelFolder(dir));
}

describe.each(Object.keys(reference))('fixture %s', (name) => {
  it('a full pass matches the PyTorch reference logits within 1e-4', async () => {
    const lm = await open(join(FIXTURES, name));
    for (const { inputIds, logits } of reference[name]!.sequences) {
      lm.reset();
      const out = await lm.forward(inputIds);
      expect(out.rows).toBe(inputIds.length);
      expect(maxAbsDiff(out.data, logits.flat())).toBeLessThan(1e-4);
    }
  });
});

const models = [
  ['micro-a', join(FIXTURES, 'micro-a')],
  ['micro-b', join(FIXTURES, 'micro-b')],
  ['embedded target', PAIR_TARGET],
  ['embedded draft', PAIR_DRAFT],
];

describe.each(models)('KV cache of %s', (_name, dir) => {
  const seq = [464, 262, 286, 290, 13, 11, 257, 284, 318, 40, 101, 12];

  it('a pass over 3 new tokens on top of the cache equals the full pass', async () => {
    const lm = await open(dir);
    const full = await lm.forward(seq);
    lm.reset();
    await lm.forward(seq.slice(0, 9));
    const inc = await lm.forward(seq.slice(9));
    expect(lm.length).toBe(seq.length);
    for (let i = 0; i < 3; i++) {
      expect(maxAbsDiff(inc.row(i), full.row(9 + i))).toBeLessThan(1e-4);
    }
  });

  it('cropping the cache to n and re-feeding equals the full pass', async () => {
    const lm = await open(dir);
    const full = await lm.forward(seq);
    for (const n of [0, 1, 5, 11]) {
      // Feed other tokens after the first n (as rejected drafts would be), crop them away,
      // then feed the true continuation.
      lm.reset();
      await lm.forward(seq.slice(0, Math.max(n, 1)));
      if (n === 0) lm.crop(0);
      await lm.forward([7, 8, 9]);
      // crop twice in a row: the second crop works in the model's own buffer
      lm.crop(n + 2);
      lm.crop(n);
      expect(lm.length).toBe(n);
      const again = await lm.forward(seq.slice(n));
      for (let i = 0; i < seq.length - n; i++) {
        expect(maxAbsDiff(again.row(i), full.row(n + i))).toBeLessThan(1e-4);
      }
    }
  });
});
