/**
 * The GPT-2 family on the Hugging Face Hub, as ONNX exports transformers.js can fetch. Any other
 * GPT-2-family repo id can be typed in as well; these are the ones offered with one click.
 *
 * Sizes are estimates from the parameter count (4, 2 or 1 bytes per weight); the exact size is
 * read from the Hub (a HEAD request) before anything is downloaded.
 */
import type { Dtype } from './decoding';

export interface CatalogModel {
  /** the name people know it by, accepted wherever a repo id is */
  name: string;
  /** ONNX repos holding it, preferred first */
  repos: readonly string[];
  params: number;
  layers: number;
  hidden: number;
  dtypes: readonly Dtype[];
}

export const CATALOG: readonly CatalogModel[] = [
  {
    name: 'distilgpt2',
    repos: ['Xenova/distilgpt2'],
    params: 82e6,
    layers: 6,
    hidden: 768,
    dtypes: ['fp32', 'fp16', 'q8'],
  },
  {
    name: 'gpt2',
    repos: ['Xenova/gpt2'],
    params: 124e6,
    layers: 12,
    hidden: 768,
    dtypes: ['fp32', 'fp16', 'q8'],
  },
  {
    name: 'gpt2-medium',
    repos: ['Xenova/gpt2-medium'],
    params: 355e6,
    layers: 24,
    hidden: 1024,
    dtypes: ['fp32', 'fp16', 'q8'],
  },
  {
    name: 'gpt2-large',
    repos: ['Xenova/gpt2-large'],
    params: 774e6,
    layers: 36,
    hidden: 1280,
    dtypes: ['fp32', 'fp16', 'q8'],
  },
  {
    name: 'gpt2-xl',
    repos: ['Xenova/gpt2-xl'],
    params: 1558e6,
    layers: 48,
    hidden: 1600,
    dtypes: ['fp32', 'fp16', 'q8'],
  },
];

/** The exercise's pair: gpt2 drafts for gpt2-medium. */
export const SEED_PAIR = { target: 'gpt2-medium', draft: 'gpt2' } as const;

const BYTES_PER_WEIGHT: Record<Dtype, number> = { fp32: 4, fp16: 2, q8: 1 };

export function estimatedBytes(model: CatalogModel, dtype: Dtype): number {
  return model.params * BYTES_PER_WEIGHT[dtype];
}

/** transformers.js' file-name suffix for each dtype */
export const DTYPE_SUFFIX: Record<Dtype, string> = { fp32: '', fp16: '_fp16', q8: '_quantized' };

/** Decoder file base names a GPT-2 ONNX repo may use, preferred first. */
export const ONNX_BASE_NAMES = ['model', 'decoder_model_merged'] as const;

export function onnxFileCandidates(dtype: Dtype): string[] {
  return ONNX_BASE_NAMES.map((base) => `onnx/${base}${DTYPE_SUFFIX[dtype]}.onnx`);
}

export function catalogEntry(nameOrRepo: string): CatalogModel | null {
  return CATALOG.find((m) => m.name === nameOrRepo || m.repos.includes(nameOrRepo)) ?? null;
}

/** A Hub repo id: owner/name, each made of letters, digits, '-', '_' and '.'. */
export function isRepoId(s: string): boolean {
  return /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(s) && !s.includes('..');
}
