/** The export tool itself, run on its micro configuration, so that it cannot rot. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OnnxCausalLM } from '../../src/core/model/causalLm';
import { readModelFolder } from '../../src/core/model/modelFolder';
import { loadTokenizer } from '../../src/core/model/tokenizer';
import { ROOT, SYSTEM_PYTHON, maxAbsDiff, torchMissingReason } from '../support/helpers';

const missing = torchMissingReason();

describe('tools/build_fixtures.py (the ONNX export tool)', () => {
  it('writes Hub-layout folders that load and match PyTorch', async (ctx) => {
    if (missing) ctx.skip(missing);
    const out = mkdtempSync(join(tmpdir(), 'specdec-export-'));
    execFileSync(SYSTEM_PYTHON, [join(ROOT, 'tools', 'build_fixtures.py'), '--out', out], {
      stdio: 'pipe',
    });
    const reference = JSON.parse(
      readFileSync(join(out, 'reference-logits.json'), 'utf8'),
    ) as Record<string, { sequences: Array<{ inputIds: number[]; logits: number[][] }> }>;
    for (const name of ['micro-a', 'micro-b']) {
      const folder = readModelFolder(join(out, name));
      expect(folder.config.modelType).toBe('gpt2');
      const lm = await OnnxCausalLM.open(folder);
      const { inputIds, logits } = reference[name]!.sequences[0]!;
      const got = await lm.forward(inputIds);
      expect(maxAbsDiff(got.data, logits.flat())).toBeLessThan(1e-4);
      const tok = await loadTokenizer(folder.dir);
      expect(tok.decode(tok.encode('Round trip, please.'))).toBe('Round trip, please.');
      await lm.release();
    }
  });
});
