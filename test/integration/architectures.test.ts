/**
 * The model layer's architecture seam: config.json read by its family's entry (GPT-2 the first),
 * one context-length rule for every reader, a model_type without an entry read as before, and a
 * pass's inputs fed as the entry names them and the graph takes them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cacheSlots } from '../../src/core/model/architectures/architecture';
import { ARCHITECTURES, architectureOf } from '../../src/core/model/architectures/registry';
import { contextLengthOf, readModelFolder } from '../../src/core/model/modelFolder';
import { PassFeeds } from '../../src/core/model/passFeeds';
import { MICRO_A, copyFolder } from '../support/helpers';

/** a copy of micro-a whose config.json is micro-a's with `change` applied */
function withConfig(change: (config: Record<string, unknown>) => void): string {
  const dir = copyFolder(MICRO_A);
  const path = join(dir, 'config.json');
  const config = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  change(config);
  writeFileSync(path, JSON.stringify(config));
  return dir;
}

describe('the architecture registry', () => {
  it('has GPT-2, Llama, Qwen2 and Phi-3, keyed by model_type; GPT-2 with its cache names and rebuild', () => {
    expect(Object.keys(ARCHITECTURES)).toEqual(['gpt2', 'llama', 'qwen2', 'phi3']);
    const gpt2 = architectureOf('gpt2');
    expect(gpt2.modelType).toBe('gpt2');
    expect(gpt2.rebuild).not.toBeNull();
    const config = readModelFolder(MICRO_A).config;
    expect(config).toMatchObject({ modelType: 'gpt2', nLayer: 2, nHead: 2, nKvHeads: 2 });
    expect(config).toMatchObject({
      headDim: 16,
      nPositions: 64,
      vocabSize: 557,
      eosTokenIds: [556],
    });
    expect(cacheSlots(gpt2, config).slice(0, 3)).toEqual([
      { past: 'past_key_values.0.key', present: 'present.0.key' },
      { past: 'past_key_values.0.value', present: 'present.0.value' },
      { past: 'past_key_values.1.key', present: 'present.1.key' },
    ]);
  });

  it('reads a model_type without an entry by GPT-2’s rules, as before there were entries', () => {
    const dir = withConfig((c) => (c.model_type = 'gptj'));
    expect(readModelFolder(dir).config).toMatchObject({ modelType: 'gptj', nPositions: 64 });
    expect(architectureOf('gptj')).toBe(ARCHITECTURES.gpt2);
  });

  it('names the model_type and the families it runs when such a config does not read', () => {
    const dir = withConfig((c) => {
      c.model_type = 'gpt_neox';
      delete c.n_layer;
      c.num_hidden_layers = 2;
    });
    expect(() => readModelFolder(dir)).toThrow(
      /config\.json: model_type "gpt_neox" is not a family the engine runs \(it runs gpt2, llama, qwen2, phi3\); read by GPT-2's rules, as a model_type without an entry is, it is not a GPT-2 config: n_layer .*and vocab_size\.$/,
    );
    // a GPT-2 config keeps the message it always had
    const gpt2 = withConfig((c) => delete c.n_layer);
    expect(() => readModelFolder(gpt2)).toThrow(/n_layer .*and vocab_size\.$/);
  });
});

describe('the context length', () => {
  it('is read by one rule, the one a load uses (GPT-2: n_positions)', () => {
    expect(contextLengthOf(MICRO_A)).toBe(readModelFolder(MICRO_A).config.nPositions);
    expect(contextLengthOf(withConfig((c) => (c.n_positions = 32)))).toBe(32);
    // n_ctx alone does not make a GPT-2 config a load accepts, so it gives no context either
    expect(contextLengthOf(withConfig((c) => delete c.n_positions))).toBeNull();
    expect(contextLengthOf(join(MICRO_A, 'missing'))).toBeNull();
  });
});

describe('a pass’s feeds', () => {
  const inputs = architectureOf('gpt2').inputs;

  it('feed the optional inputs only where the graph has them', () => {
    const plain = new PassFeeds(inputs, ['input_ids', 'attention_mask'], 16).build([7, 8], 3);
    expect(Object.keys(plain)).toEqual(['input_ids', 'attention_mask']);
    const merged = new PassFeeds(
      inputs,
      ['input_ids', 'attention_mask', 'position_ids', 'use_cache_branch'],
      16,
    );
    const feeds = merged.build([7, 8], 3);
    expect(Array.from(feeds.input_ids!.data as BigInt64Array)).toEqual([7n, 8n]);
    expect(feeds.attention_mask!.dims).toEqual([1, 5]);
    expect(Array.from(feeds.position_ids!.data as BigInt64Array)).toEqual([3n, 4n]);
    // a bool tensor holds its values as bytes: 1 on a pass with a cache, 0 on the first
    expect(Array.from(feeds.use_cache_branch!.data as Uint8Array)).toEqual([1]);
    expect(Array.from(merged.build([1], 0).use_cache_branch!.data as Uint8Array)).toEqual([0]);
  });

  it('names the required inputs a graph lacks', () => {
    expect(PassFeeds.missing(inputs, ['input_ids'])).toEqual(['attention_mask']);
  });
});
