/**
 * The catalog tells the truth about size and cost: its size estimates against what
 * tools/build_standin.py writes at the real dimensions (the Hub exports' layout), and the cost
 * ratio a pair should have, shown in the model picker before anything is downloaded.
 */
import { describe, expect, it } from 'vitest';
import {
  CATALOG,
  GPT2_CONTEXT,
  GPT2_VOCAB,
  catalogEntry,
  estimatedBytes,
  expectedCostRatio,
} from '../../src/shared/catalog';
import { CATALOG_PAIRS, catalogPair, publishedText } from '../../src/shared/catalogPairs';
import { DTYPES } from '../../src/shared/decoding';
import { pairOutlook } from '../../src/renderer/src/lib/modelChoice';

/**
 * The Llama family's stand-ins at real size, measured on 2026-12-07: `npm run build:standin --
 * --model NAME --formats model,q4` (seed 0), each file with its external data, in bytes.
 */
const MEASURED_FAMILY: Record<string, Partial<Record<string, number>>> = {
  'smollm2-135m': { fp32: 538_923_032, q4: 180_622_521 },
  'smollm2-360m': { fp32: 1_448_106_970, q4: 386_442_568 },
};

/**
 * The Hub's own file sizes (a model file with its external data, in bytes as the Hub lists them,
 * read 2026-12-07 from the repos' onnx/ folders): the estimates must hold within 5%.
 */
const HUB_SIZES: Record<string, { source: string; files: Partial<Record<string, number>> }> = {
  'qwen2.5-0.5b': {
    source: 'https://huggingface.co/onnx-community/Qwen2.5-0.5B-Instruct/tree/main/onnx',
    files: { fp32: 1.99e9, fp16: 997e6, int8: 512e6, q4: 786e6, q4f16: 483e6, bnb4: 764e6 },
  },
  'qwen2.5-1.5b': {
    source: 'https://huggingface.co/onnx-community/Qwen2.5-1.5B-Instruct/tree/main/onnx',
    files: { fp32: 6.21e9, fp16: 3.1e9, int8: 1.58e9, q4: 1.79e9, q4f16: 1.22e9, bnb4: 1.71e9 },
  },
  'llama3.2-3b': {
    source: 'https://huggingface.co/onnx-community/Llama-3.2-3B-Instruct/tree/main/onnx',
    files: { fp32: 12.9e9, fp16: 6.43e9, int8: 3.21e9, q4: 3.34e9, q4f16: 2.37e9, bnb4: 3.16e9 },
  },
};

/**
 * File sizes in bytes, measured on 2026-12-02: `npm run build:standin -- --model NAME --formats
 * merged,model,q8,fp16` (seed 0), random weights at the real dimensions. Rebuilding them takes
 * minutes and gigabytes, so the sizes are recorded here; bench:seed prints them afresh.
 */
const MEASURED: Record<string, Record<string, number>> = {
  gpt2: {
    'model.onnx': 651_839_365,
    'decoder_model_merged.onnx': 652_095_732,
    'model_fp16.onnx': 325_993_591,
    'decoder_model_merged_fp16.onnx': 326_249_711,
    'model_quantized.onnx': 281_278_705,
    'decoder_model_merged_quantized.onnx': 281_586_089,
  },
  'gpt2-medium': {
    'decoder_model_merged.onnx': 1_624_700_405,
    'decoder_model_merged_quantized.onnx': 564_514_138,
  },
};

describe('the catalog', () => {
  it('gives each model the parameter count of its dimensions', () => {
    for (const m of CATALOG.filter((e) => e.family === 'gpt2')) {
      const h = m.hidden;
      const params = (GPT2_VOCAB + GPT2_CONTEXT) * h + m.layers * (12 * h * h + 13 * h) + 2 * h;
      expect(Math.abs(params / m.params - 1), m.name).toBeLessThan(0.01);
      expect(h % m.heads, m.name).toBe(0);
    }
  });

  it.each(Object.entries(MEASURED))(
    'estimates %s’s file sizes within 1% of the stand-ins',
    (name, files) => {
      const model = catalogEntry(name)!;
      for (const [file, bytes] of Object.entries(files)) {
        const dtype = file.includes('_fp16') ? 'fp16' : file.includes('_quantized') ? 'q8' : 'fp32';
        expect(Math.abs(estimatedBytes(model, dtype) / bytes - 1), file).toBeLessThan(0.01);
      }
    },
  );

  it('expects the cost ratio from the matrix weights: gpt2 → gpt2-medium small, → gpt2-xl large', () => {
    const gpt2 = catalogEntry('gpt2')!;
    const medium = catalogEntry('gpt2-medium')!;
    const xl = catalogEntry('gpt2-xl')!;
    // stand-ins measured c = 0.36 for gpt2 / gpt2-medium (43 ms against 118 ms a pass, fp32, 2 cores)
    expect(expectedCostRatio(gpt2, medium)).toBeCloseTo(0.35, 2);
    expect(expectedCostRatio(gpt2, xl)).toBeCloseTo(0.08, 2);
    const seed = pairOutlook(gpt2, medium)!;
    expect(seed.text).toMatch(/^Expected cost ratio c about 0\.35 \(gpt2 \/ gpt2-medium/);
    expect(seed.text).toContain('a small win on a CPU');
    expect(pairOutlook(gpt2, xl)!.text).toContain('a large win on a CPU');
    expect(pairOutlook(medium, gpt2)!.text).toMatch(/can only lose time/);
    expect(pairOutlook(gpt2, gpt2)).toBeNull();
    expect(pairOutlook(null, medium)).toBeNull();
  });

  it('gives the Llama-family models the parameter counts their model cards give', () => {
    // the published counts: SmolLM2 135M / 360M / 1.7B, Qwen2.5 0.49B / 1.54B / 3.09B, Llama 3.2 1.24B / 3.21B
    const published: Record<string, number> = {
      'smollm2-135m': 135e6,
      'smollm2-360m': 362e6,
      'smollm2-1.7b': 1.71e9,
      'qwen2.5-0.5b': 0.49e9,
      'qwen2.5-1.5b': 1.54e9,
      'qwen2.5-3b': 3.09e9,
      'llama3.2-1b': 1.24e9,
      'llama3.2-3b': 3.21e9,
    };
    for (const [name, params] of Object.entries(published)) {
      const m = catalogEntry(name)!;
      expect(Math.abs(m.params / params - 1), name).toBeLessThan(0.02);
      expect(m.dtypes).toEqual(DTYPES);
      expect(m.source).toMatch(/^https:\/\/huggingface\.co\/.+\/config\.json$/);
    }
  });

  it.each(Object.entries(MEASURED_FAMILY))(
    'estimates %s’s file sizes within 1% of the stand-ins in the Hub layout',
    (name, files) => {
      const m = catalogEntry(name)!;
      for (const [dtype, bytes] of Object.entries(files)) {
        const estimate = estimatedBytes(m, dtype as (typeof DTYPES)[number]);
        expect(Math.abs(estimate / bytes! - 1), `${name} ${dtype}`).toBeLessThan(0.01);
      }
    },
  );

  it.each(Object.entries(HUB_SIZES))('estimates %s’s Hub files within 5%', (name, { files }) => {
    const m = catalogEntry(name)!;
    for (const [dtype, bytes] of Object.entries(files)) {
      const estimate = estimatedBytes(m, dtype as (typeof DTYPES)[number]);
      expect(Math.abs(estimate / bytes! - 1), `${name} ${dtype}`).toBeLessThan(0.05);
    }
  });

  it('names each natural pair by catalog models of one family, with its published figures', () => {
    expect(CATALOG_PAIRS.map((p) => p.name)).toEqual([
      'seed',
      'smollm2-135m/360m',
      'smollm2-135m/1.7b',
      'qwen2.5-0.5b/1.5b',
      'qwen2.5-0.5b/3b',
      'llama3.2-1b/3b',
    ]);
    for (const p of CATALOG_PAIRS) {
      const draft = catalogEntry(p.draft)!;
      const target = catalogEntry(p.target)!;
      expect(draft.family, p.name).toBe(target.family);
      expect(draft.vocab, p.name).toBe(target.vocab);
      expect(expectedCostRatio(draft, target), p.name).toBeLessThan(0.5);
    }
    expect(catalogPair('llama3.2-1b/3b')!.published.map(publishedText)).toEqual([
      'acceptance 0.72 1.7x llama.cpp on an RTX 3060 (target Llama-3.1-8B; as quoted in issue 33)',
    ]);
    expect(catalogPair('smollm2-135m/360m')!.published[0]!.acceptance).toEqual([0.73, 0.78]);
    expect(catalogPair('gpt2/gpt2-xl')).toBeNull();
  });
});
