/**
 * The pair picker's words: a natural pair of the catalog (src/shared/catalogPairs.ts) as the app
 * shows it before anything is downloaded: each model's repo, family and size in the chosen weight
 * type, the cost ratio c to expect, and the figures published for it with their source.
 */
import { estimatedBytes, type CatalogModel } from '../../../shared/catalog';
import { pairModels, type CatalogPair, type PublishedFigure } from '../../../shared/catalogPairs';
import { DTYPES, type Dtype } from '../../../shared/decoding';
import { formatBytes } from './downloadFormat';
import { formatParams, pairOutlook } from './modelChoice';

/** the weight types both models' repos carry, in transformers.js' order (fp32 always) */
export function pairDtypes(pair: CatalogPair): Dtype[] {
  const { draft, target } = pairModels(pair);
  return DTYPES.filter((d) => draft.dtypes.includes(d) && target.dtypes.includes(d));
}

export interface PairModelLine {
  role: 'draft' | 'target';
  name: string;
  repo: string;
  /** "llama, 1.2B params, 16 layers, context 131,072" */
  details: string;
  bytes: number;
  /** "about 1.04 GB" */
  size: string;
}

export interface PairCard {
  name: string;
  dtype: Dtype;
  /** the draft, then the target */
  models: [PairModelLine, PairModelLine];
  /** "about 4.38 GB": what a first run downloads */
  total: string;
  /** the cost ratio to expect, from the matrix weights */
  c: number;
  /** the prediction in words (pairOutlook's) */
  outlook: string;
  /** one sentence per published figure, with its source; empty when none is known */
  published: string[];
}

function modelLine(role: 'draft' | 'target', model: CatalogModel, dtype: Dtype): PairModelLine {
  const bytes = estimatedBytes(model, dtype);
  return {
    role,
    name: model.name,
    repo: model.repos[0]!,
    details: `${model.family}, ${formatParams(model.params)} params, ${model.layers} layers, context ${model.context.toLocaleString('en-US')}`,
    bytes,
    size: `about ${formatBytes(bytes)}`,
  };
}

const span = ([lo, hi]: readonly [number, number], digits: number): string =>
  lo === hi ? lo.toFixed(digits) : `${lo.toFixed(digits)} to ${hi.toFixed(digits)}`;

/**
 * "Acceptance 0.72, speedup 1.7x: llama.cpp on an RTX 3060; target Llama-3.1-8B, not this
 * pair's. Source: as quoted in issue 33."
 */
export function publishedSentence(figure: PublishedFigure, pairTargetRepo: string): string {
  const numbers = [
    figure.acceptance ? `acceptance ${span(figure.acceptance, 2)}` : null,
    figure.speedup ? `speedup ${span(figure.speedup, 1)}x` : null,
  ].filter((p): p is string => p !== null);
  const ownTarget = (pairTargetRepo.split('/')[1] ?? '').startsWith(figure.target);
  const what = numbers.length > 0 ? `${numbers.join(', ')}: ${figure.setting}` : figure.setting;
  return `${what[0]!.toUpperCase()}${what.slice(1)}; target ${figure.target}${ownTarget ? '' : ", not this pair's"}. Source: ${figure.source}.`;
}

/** Everything the picker shows for a pair in a weight type both its repos carry. */
export function pairCard(pair: CatalogPair, dtype: Dtype): PairCard {
  const { draft, target } = pairModels(pair);
  const models: [PairModelLine, PairModelLine] = [
    modelLine('draft', draft, dtype),
    modelLine('target', target, dtype),
  ];
  const outlook = pairOutlook(draft, target)!;
  return {
    name: pair.name,
    dtype,
    models,
    total: `about ${formatBytes(models[0].bytes + models[1].bytes)}`,
    c: outlook.c,
    outlook: outlook.text,
    published: pair.published.map((f) => publishedSentence(f, models[1].repo)),
  };
}
