/**
 * The natural pairs: a small model of a family drafting for a larger one of the same family (one
 * tokenizer), as practitioners deploy them, with the figures published for them where there are
 * some, so that the lab's measurement can be held against them before anything is downloaded.
 */
import { SEED_PAIR, catalogEntry, type CatalogModel } from './catalog';

/** a figure someone published for speculative decoding with this draft */
export interface PublishedFigure {
  /** the target it was measured with (not always the pair's: Llama-3.1-8B for Llama-3.2-1B) */
  target: string;
  /** acceptance rate, as [low, high] (equal for one figure); null when not given */
  acceptance: readonly [number, number] | null;
  /** speedup over no speculation, as [low, high]; null when not given */
  speedup: readonly [number, number] | null;
  /** where and how: the engine, hardware and decoding */
  setting: string;
  source: string;
}

export interface CatalogPair {
  /** the --pair name */
  name: string;
  draft: string;
  target: string;
  published: readonly PublishedFigure[];
}

/** the figures as issue 33 quotes them (it gives no links; the engines are named there) */
const ISSUE_33 = 'as quoted in issue 33';

export const CATALOG_PAIRS: readonly CatalogPair[] = [
  { name: 'seed', draft: SEED_PAIR.draft, target: SEED_PAIR.target, published: [] },
  {
    name: 'smollm2-135m/360m',
    draft: 'smollm2-135m',
    target: 'smollm2-360m',
    published: [
      {
        target: 'SmolLM2-360M',
        acceptance: [0.73, 0.78],
        speedup: null,
        setting: 'with sampling',
        source: ISSUE_33,
      },
    ],
  },
  { name: 'smollm2-135m/1.7b', draft: 'smollm2-135m', target: 'smollm2-1.7b', published: [] },
  {
    name: 'qwen2.5-0.5b/1.5b',
    draft: 'qwen2.5-0.5b',
    target: 'qwen2.5-1.5b',
    published: [
      {
        target: 'Qwen2.5-1.5B',
        acceptance: null,
        speedup: null,
        setting: 'on a CPU: slower than no speculation',
        source: ISSUE_33,
      },
    ],
  },
  {
    name: 'qwen2.5-0.5b/3b',
    draft: 'qwen2.5-0.5b',
    target: 'qwen2.5-3b',
    published: [
      {
        target: 'Qwen2.5-7B',
        acceptance: null,
        speedup: [1.3, 1.6],
        setting: 'on CPUs and Apple silicon',
        source: ISSUE_33,
      },
    ],
  },
  {
    name: 'llama3.2-1b/3b',
    draft: 'llama3.2-1b',
    target: 'llama3.2-3b',
    published: [
      {
        target: 'Llama-3.1-8B',
        acceptance: [0.72, 0.72],
        speedup: [1.7, 1.7],
        setting: 'llama.cpp on an RTX 3060',
        source: ISSUE_33,
      },
    ],
  },
];

export const PAIR_NAMES = CATALOG_PAIRS.map((p) => p.name);

export function catalogPair(name: string): CatalogPair | null {
  return CATALOG_PAIRS.find((p) => p.name === name) ?? null;
}

/** the pair's two catalog models */
export function pairModels(pair: CatalogPair): { draft: CatalogModel; target: CatalogModel } {
  return { draft: catalogEntry(pair.draft)!, target: catalogEntry(pair.target)! };
}

const range = ([lo, hi]: readonly [number, number], fmt: (v: number) => string): string =>
  lo === hi ? fmt(lo) : `${fmt(lo)}-${fmt(hi)}`;

/** one line: "acceptance 0.73-0.78 with sampling (target SmolLM2-360M; source)" */
export function publishedText(f: PublishedFigure): string {
  const parts = [
    f.acceptance ? `acceptance ${range(f.acceptance, (v) => v.toFixed(2))}` : null,
    f.speedup ? `${range(f.speedup, (v) => v.toFixed(1))}x` : null,
  ].filter((p): p is string => p !== null);
  return `${[...parts, f.setting].join(' ')} (target ${f.target}; ${f.source})`;
}
