/**
 * The app's model families before any download: which dtypes a catalog model's repo offers (with
 * their sizes), a natural pair's card (repos, sizes, expected c, published figures with their
 * source), and where an error about the chat template points.
 */
import { describe, expect, it } from 'vitest';
import { catalogEntry, estimatedBytes, expectedCostRatio } from '../../src/shared/catalog';
import { CATALOG_PAIRS, catalogPair } from '../../src/shared/catalogPairs';
import { DTYPES } from '../../src/shared/decoding';
import { formatBytes } from '../../src/renderer/src/lib/downloadFormat';
import { controlHint } from '../../src/renderer/src/lib/hostErrors';
import { catalogDetails, dtypeChoices, dtypeProblem } from '../../src/renderer/src/lib/modelChoice';
import { pairCard, pairDtypes, publishedSentence } from '../../src/renderer/src/lib/naturalPairs';

describe('weight types per repo', () => {
  it('offers a catalog model only the dtypes its repo carries, each with its estimated size', () => {
    const gpt2 = catalogEntry('gpt2')!;
    const choices = dtypeChoices(gpt2);
    expect(choices.filter((c) => c.available).map((c) => c.dtype)).toEqual(['fp32', 'q8', 'fp16']);
    expect(choices.find((c) => c.dtype === 'q8')!.label).toBe(
      `q8 (8-bit) · ${formatBytes(estimatedBytes(gpt2, 'q8'))}`,
    );
    expect(choices.find((c) => c.dtype === 'q4')!.label).toBe('q4 (4-bit) (not in Xenova/gpt2)');
    const llama = catalogEntry('llama3.2-1b')!;
    expect(dtypeChoices(llama).every((c) => c.available)).toBe(true);
    expect(dtypeChoices(llama).find((c) => c.dtype === 'q4f16')!.label).toBe(
      `q4f16 (4-bit, fp16) · ${formatBytes(estimatedBytes(llama, 'q4f16'))}`,
    );
    // a repo outside the catalog: every dtype, the Hub says at download which it has
    expect(dtypeChoices(null).map((c) => [c.dtype, c.available])).toEqual(
      dtypeChoices(llama).map((c) => [c.dtype, true]),
    );
    expect(dtypeChoices(null).find((c) => c.dtype === 'q4')!.label).toBe('q4 (4-bit)');
  });

  it('refuses a dtype the catalog repo lacks, naming those it has', () => {
    expect(dtypeProblem(catalogEntry('gpt2-medium'), 'q4')).toBe(
      'Xenova/gpt2-medium has no q4 file; it has fp32, fp16, q8: choose one of those under Weights.',
    );
    expect(dtypeProblem(catalogEntry('gpt2-medium'), 'q8')).toBeNull();
    expect(dtypeProblem(catalogEntry('qwen2.5-0.5b'), 'bnb4')).toBeNull();
    expect(dtypeProblem(null, 'bnb4')).toBeNull();
    expect(catalogDetails(catalogEntry('gpt2')!, 'q4')).toBe('124M params, 12 layers, no q4 file');
  });
});

describe('the natural pairs as the picker shows them', () => {
  it('offers the dtypes both repos carry', () => {
    expect(pairDtypes(catalogPair('seed')!)).toEqual(['fp32', 'fp16', 'q8']);
    for (const pair of CATALOG_PAIRS.filter((p) => p.name !== 'seed'))
      expect(pairDtypes(pair), pair.name).toEqual([...DTYPES]);
  });

  it('shows repos, sizes in the chosen dtype, the expected c and the published figures', () => {
    const pair = catalogPair('llama3.2-1b/3b')!;
    const draft = catalogEntry('llama3.2-1b')!;
    const target = catalogEntry('llama3.2-3b')!;
    const card = pairCard(pair, 'q4');
    expect(card.models.map((m) => [m.role, m.repo])).toEqual([
      ['draft', 'onnx-community/Llama-3.2-1B-Instruct'],
      ['target', 'onnx-community/Llama-3.2-3B-Instruct'],
    ]);
    expect(card.models[0].size).toBe(`about ${formatBytes(estimatedBytes(draft, 'q4'))}`);
    expect(card.models[1].size).toBe(`about ${formatBytes(estimatedBytes(target, 'q4'))}`);
    expect(card.total).toBe(
      `about ${formatBytes(estimatedBytes(draft, 'q4') + estimatedBytes(target, 'q4'))}`,
    );
    expect(card.models[1].details).toBe('llama, 3.2B params, 28 layers, context 131,072');
    // sizes follow the dtype
    expect(pairCard(pair, 'fp32').models[1].bytes).toBe(estimatedBytes(target, 'fp32'));
    expect(card.c).toBe(expectedCostRatio(draft, target));
    expect(card.outlook).toMatch(
      /^Expected cost ratio c about 0\.\d\d \(llama3\.2-1b \/ llama3\.2-3b/,
    );
    expect(card.published).toEqual([
      "Acceptance 0.72, speedup 1.7x: llama.cpp on an RTX 3060; target Llama-3.1-8B, not this pair's. Source: as quoted in issue 33.",
    ]);
  });

  it('says whose target a figure was measured with, and nothing when none is known', () => {
    expect(pairCard(catalogPair('smollm2-135m/360m')!, 'fp32').published).toEqual([
      'Acceptance 0.73 to 0.78: with sampling; target SmolLM2-360M. Source: as quoted in issue 33.',
    ]);
    expect(pairCard(catalogPair('qwen2.5-0.5b/1.5b')!, 'fp32').published).toEqual([
      'On a CPU: slower than no speculation; target Qwen2.5-1.5B. Source: as quoted in issue 33.',
    ]);
    expect(pairCard(catalogPair('qwen2.5-0.5b/3b')!, 'q4f16').published[0]).toMatch(
      /^Speedup 1\.3 to 1\.6x: on CPUs and Apple silicon; target Qwen2\.5-7B, not this pair's\./,
    );
    expect(pairCard(catalogPair('smollm2-135m/1.7b')!, 'q4').published).toEqual([]);
    expect(
      publishedSentence(
        {
          target: 'X-1B',
          acceptance: null,
          speedup: [2, 2],
          setting: 'somewhere',
          source: 'a paper',
        },
        'org/X-1B-Instruct',
      ),
    ).toBe('Speedup 2.0x: somewhere; target X-1B. Source: a paper.');
  });
});

describe('the chat template in the app', () => {
  it('names the control an engine error about the chat template points to', () => {
    expect(controlHint(['chatTemplate'])).toBe(' (set in: Chat template, under the model pair)');
  });
});
