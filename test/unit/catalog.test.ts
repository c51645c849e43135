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
import { pairOutlook } from '../../src/renderer/src/lib/modelChoice';

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
    for (const m of CATALOG) {
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
});
