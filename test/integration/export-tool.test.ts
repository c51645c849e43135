/** The export tools themselves (the ONNX fixtures' and the GGUF one), so that they cannot rot. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGgufFileInfo } from 'node-llama-cpp';
import { describe, expect, it } from 'vitest';
import { OnnxCausalLM } from '../../src/core/model/causalLm';
import { readModelFolder } from '../../src/core/model/modelFolder';
import { loadTokenizer } from '../../src/core/model/tokenizer';
import {
  ROOT,
  SYSTEM_PYTHON,
  copyFolder,
  maxAbsDiff,
  torchMissingReason,
} from '../support/helpers';

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

const PHI3 = join(ROOT, 'test', 'fixtures', 'hub-layouts', 'phi3-mini-4k-tiny');

/** runs tools/export_gguf.py; the JSON report, or the message it refused with */
function exportGguf(
  dir: string,
  out: string,
): { report?: Record<string, unknown>; error?: string } {
  try {
    const stdout = execFileSync(SYSTEM_PYTHON, [join(ROOT, 'tools', 'export_gguf.py'), dir, out], {
      stdio: 'pipe',
    });
    return { report: JSON.parse(stdout.toString()) as Record<string, unknown> };
  } catch (err) {
    return { error: String((err as { stderr: Buffer }).stderr) };
  }
}

/** a copy of the phi3 fixture with its config.json changed */
function phi3With(change: Record<string, unknown>): string {
  const dir = copyFolder(PHI3);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as object;
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, ...change }));
  return dir;
}

describe.skipIf(missing !== null)('tools/export_gguf.py on Phi-3 (llama.cpp’s phi3 layout)', () => {
  const out = mkdtempSync(join(tmpdir(), 'specdec-gguf-phi3-'));

  it('writes the fused attn_qkv and gate+up ffn_up, n_ff and the keys convert_hf_to_gguf.py writes', async () => {
    const gguf = join(out, 'phi3.gguf');
    const { report, error } = exportGguf(PHI3, gguf);
    expect(error).toBeUndefined();
    expect(report).toMatchObject({ architecture: 'phi3', tiedHead: false });
    const info = await readGgufFileInfo(gguf, { readTensorInfo: true });
    const dims = new Map(
      (info.tensorInfo ?? []).map((t) => [t.name, t.dimensions.map((d) => Number(d))]),
    );
    // ggml lists the fastest dimension first: [in, out]; hidden 32, 4 + 2 x 4 heads of 8, n_ff 64
    expect(dims.get('blk.0.attn_qkv.weight')).toEqual([32, 96]);
    expect(dims.get('blk.0.ffn_up.weight')).toEqual([32, 128]);
    expect(dims.get('blk.0.ffn_down.weight')).toEqual([64, 32]);
    expect(dims.get('output.weight')).toEqual([32, 557]);
    expect([...dims.keys()].filter((n) => /attn_[qkv]\.|ffn_gate/.test(n))).toEqual([]);
    const phi3 = (info.metadata as unknown as Record<string, Record<string, unknown>>).phi3!;
    expect(phi3).toMatchObject({
      feed_forward_length: 64,
      attention: { head_count: 4, head_count_kv: 4, sliding_window: 128 },
      rope: { dimension_count: 8, freq_base: 10000, scaling: { original_context_length: 128 } },
    });
    // a name llama.cpp would read as Phi-3's, on a vocabulary without Phi-3's </s>, <unk>, <s>
    expect(info.metadata.general.name).toBe('phi 3-mini-4k-tiny');
  });

  it('refuses a graph whose widths are not the config’s, naming the projection', () => {
    const { error } = exportGguf(phi3With({ intermediate_size: 32 }), join(out, 'x.gguf'));
    expect(error).toMatch(/layer 0 ffn_up is 32 -> 128 wide where config.json implies 64 outputs/);
  });

  it('refuses Phi-3’s long-context rope_scaling by name', () => {
    const longrope = { type: 'longrope', long_factor: [1, 1, 1, 1], short_factor: [1, 1, 1, 1] };
    const { error } = exportGguf(phi3With({ rope_scaling: longrope }), join(out, 'x.gguf'));
    expect(error).toMatch(/rope_scaling type 'longrope' \(Phi-3's long-context variants\)/);
  });

  it('refuses a model_type it has no writer for, listing those it has', () => {
    const { error } = exportGguf(phi3With({ model_type: 'gemma' }), join(out, 'x.gguf'));
    expect(error).toMatch(
      /model_type 'gemma' has no GGUF writer here \(it writes gpt2, llama, qwen2, phi3\)/,
    );
  });
});
