/**
 * The GPT-2 family on the Hugging Face Hub, as ONNX exports transformers.js can fetch. Any other
 * GPT-2-family repo id can be typed in as well; these are the ones offered with one click.
 *
 * Sizes are estimated from the dimensions, the way the ONNX exports store the weights (see
 * `estimatedBytes`); the exact size is read from the Hub (a HEAD request) before anything is
 * downloaded.
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
  heads: number;
  dtypes: readonly Dtype[];
}

/** GPT-2's vocabulary and context, shared by the whole family */
export const GPT2_VOCAB = 50257;
export const GPT2_CONTEXT = 1024;

export const CATALOG: readonly CatalogModel[] = [
  {
    name: 'distilgpt2',
    repos: ['Xenova/distilgpt2'],
    params: 82e6,
    layers: 6,
    hidden: 768,
    heads: 12,
    dtypes: ['fp32', 'fp16', 'q8'],
  },
  {
    name: 'gpt2',
    repos: ['Xenova/gpt2'],
    params: 124e6,
    layers: 12,
    hidden: 768,
    heads: 12,
    dtypes: ['fp32', 'fp16', 'q8'],
  },
  {
    name: 'gpt2-medium',
    repos: ['Xenova/gpt2-medium'],
    params: 355e6,
    layers: 24,
    hidden: 1024,
    heads: 16,
    dtypes: ['fp32', 'fp16', 'q8'],
  },
  {
    name: 'gpt2-large',
    repos: ['Xenova/gpt2-large'],
    params: 774e6,
    layers: 36,
    hidden: 1280,
    heads: 20,
    dtypes: ['fp32', 'fp16', 'q8'],
  },
  {
    name: 'gpt2-xl',
    repos: ['Xenova/gpt2-xl'],
    params: 1558e6,
    layers: 48,
    hidden: 1600,
    heads: 25,
    dtypes: ['fp32', 'fp16', 'q8'],
  },
];

/** The exercise's pair: gpt2 drafts for gpt2-medium. */
export const SEED_PAIR = { target: 'gpt2-medium', draft: 'gpt2' } as const;

/** weights by kind, from the dimensions */
function weightCounts(model: CatalogModel): {
  matrices: number;
  embeddings: number;
  small: number;
} {
  const h = model.hidden;
  const embeddings = (GPT2_VOCAB + GPT2_CONTEXT) * h;
  // per layer: qkv (3h^2), attention out (h^2), MLP up and down (8h^2); the exported LM head is a
  // second, transposed copy of the token embedding (the export stores the tied matrix twice)
  const matrices = model.layers * 12 * h * h + GPT2_VOCAB * h;
  // biases and layer norms: 13h per layer, 2h for the final norm
  const small = model.layers * 13 * h + 2 * h;
  return { matrices, embeddings, small };
}

/**
 * The size of the ONNX file for a dtype, from the dimensions: fp32 4 bytes and fp16 2 bytes a
 * weight, including the export's second copy of the embedding; q8 (dynamic int8) 1 byte a
 * matrix weight with the embeddings and small weights kept float32. Within 1% of what
 * tools/build_standin.py writes at gpt2 and gpt2-medium size (test/unit/catalog.test.ts).
 */
export function estimatedBytes(model: CatalogModel, dtype: Dtype): number {
  const { matrices, embeddings, small } = weightCounts(model);
  if (dtype === 'q8') return matrices + 4 * (embeddings + small);
  return (dtype === 'fp16' ? 2 : 4) * (matrices + embeddings + small);
}

/**
 * The draft/target cost ratio c to expect for a pair, before anything is downloaded: on a CPU
 * a pass is bound by reading the weights a token touches (every matrix, one embedding row), so
 * c is about the ratio of the matrix weights. Measured on stand-ins: gpt2 / gpt2-medium 0.36.
 */
export function expectedCostRatio(draft: CatalogModel, target: CatalogModel): number {
  return weightCounts(draft).matrices / weightCounts(target).matrices;
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
