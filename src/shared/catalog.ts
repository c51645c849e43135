/**
 * The models the lab offers by name: the GPT-2 family and the Llama, Qwen2.5 and SmolLM2 models
 * people speculate with today, as ONNX repos transformers.js can fetch. Any other repo id of a
 * family the engine runs can be typed in as well; these are the ones offered with one click.
 *
 * Sizes are estimated from the dimensions, the way the Hub's ONNX exports store the weights (see
 * `estimatedBytes`); the exact size is read from the Hub (a HEAD request) before anything is
 * downloaded. The dimensions are copied from each model's published config.json (`source`).
 */
import type { Dtype } from './decoding';

/** config.json's model_type of a catalog model */
export type CatalogFamily = 'gpt2' | 'llama' | 'qwen2';

export interface CatalogModel {
  /** the name people know it by, accepted wherever a repo id is */
  name: string;
  family: CatalogFamily;
  /** ONNX repos holding it, preferred first */
  repos: readonly string[];
  params: number;
  layers: number;
  hidden: number;
  heads: number;
  /** key/value heads (grouped-query attention); the heads where there is no grouping */
  kvHeads: number;
  headDim: number;
  /** the MLP's inner width */
  intermediate: number;
  vocab: number;
  /** the context the model is trained for (max_position_embeddings, n_positions) */
  context: number;
  /** the LM head is the token embedding, transposed */
  tiedHead: boolean;
  /** the ONNX files its repo carries, by transformers.js' dtype names */
  dtypes: readonly Dtype[];
  /** where the dimensions come from */
  source: string;
}

/** GPT-2's vocabulary and context, shared by the whole family */
export const GPT2_VOCAB = 50257;
export const GPT2_CONTEXT = 1024;

function gpt2(
  name: string,
  params: number,
  layers: number,
  hidden: number,
  heads: number,
): CatalogModel {
  return {
    name,
    family: 'gpt2',
    repos: [`Xenova/${name}`],
    params,
    layers,
    hidden,
    heads,
    kvHeads: heads,
    headDim: hidden / heads,
    intermediate: 4 * hidden,
    vocab: GPT2_VOCAB,
    context: GPT2_CONTEXT,
    tiedHead: true,
    dtypes: ['fp32', 'fp16', 'q8'],
    source: `https://huggingface.co/${name === 'distilgpt2' ? 'distilbert' : 'openai-community'}/${name}/blob/main/config.json`,
  };
}

/** every dtype onnx-community's and HuggingFaceTB's exports carry */
const HUB_DTYPES: readonly Dtype[] = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4'];

type LlamaLikeDims = Omit<CatalogModel, 'params' | 'dtypes' | 'headDim' | 'source'> & {
  headDim?: number;
  /** the repo whose config.json the dimensions are copied from */
  configRepo: string;
};

function llamaLike(dims: LlamaLikeDims): CatalogModel {
  const { configRepo, ...rest } = dims;
  const model: CatalogModel = {
    ...rest,
    headDim: dims.headDim ?? dims.hidden / dims.heads,
    params: 0,
    dtypes: HUB_DTYPES,
    source: `https://huggingface.co/${configRepo}/blob/main/config.json`,
  };
  const { embeddings, storedMatrices, small } = weightCounts(model);
  return { ...model, params: embeddings + storedMatrices + small };
}

export const CATALOG: readonly CatalogModel[] = [
  gpt2('distilgpt2', 82e6, 6, 768, 12),
  gpt2('gpt2', 124e6, 12, 768, 12),
  gpt2('gpt2-medium', 355e6, 24, 1024, 16),
  gpt2('gpt2-large', 774e6, 36, 1280, 20),
  gpt2('gpt2-xl', 1558e6, 48, 1600, 25),
  ...(
    [
      ['smollm2-135m', 'SmolLM2-135M-Instruct', 30, 576, 9, 3, 1536],
      ['smollm2-360m', 'SmolLM2-360M-Instruct', 32, 960, 15, 5, 2560],
      ['smollm2-1.7b', 'SmolLM2-1.7B-Instruct', 24, 2048, 32, 32, 8192],
    ] as const
  ).map(([name, repo, layers, hidden, heads, kvHeads, intermediate]) =>
    llamaLike({
      name,
      family: 'llama',
      repos: [`HuggingFaceTB/${repo}`],
      configRepo: `HuggingFaceTB/${repo}`,
      layers,
      hidden,
      heads,
      kvHeads,
      intermediate,
      vocab: 49152,
      context: 8192,
      tiedHead: true,
    }),
  ),
  ...(
    [
      ['qwen2.5-0.5b', 'Qwen2.5-0.5B-Instruct', 24, 896, 14, 2, 4864],
      ['qwen2.5-1.5b', 'Qwen2.5-1.5B-Instruct', 28, 1536, 12, 2, 8960],
      ['qwen2.5-3b', 'Qwen2.5-3B-Instruct', 36, 2048, 16, 2, 11008],
    ] as const
  ).map(([name, repo, layers, hidden, heads, kvHeads, intermediate]) =>
    llamaLike({
      name,
      family: 'qwen2',
      repos: [`onnx-community/${repo}`],
      configRepo: `Qwen/${repo}`,
      layers,
      hidden,
      heads,
      kvHeads,
      intermediate,
      vocab: 151936,
      context: 32768,
      tiedHead: true,
    }),
  ),
  ...(
    [
      ['llama3.2-1b', 'Llama-3.2-1B-Instruct', 16, 2048, 32, 8, 8192],
      ['llama3.2-3b', 'Llama-3.2-3B-Instruct', 28, 3072, 24, 8, 8192],
    ] as const
  ).map(([name, repo, layers, hidden, heads, kvHeads, intermediate]) =>
    llamaLike({
      name,
      family: 'llama',
      repos: [`onnx-community/${repo}`],
      configRepo: `meta-llama/${repo}`,
      layers,
      hidden,
      heads,
      kvHeads,
      intermediate,
      vocab: 128256,
      context: 131072,
      tiedHead: true,
    }),
  ),
];

/** The exercise's pair: gpt2 drafts for gpt2-medium. */
export const SEED_PAIR = { target: 'gpt2-medium', draft: 'gpt2' } as const;

/**
 * Weights by kind, from the dimensions: `matrices`, those a pass reads (every layer's and the LM
 * head, tied or not); `storedMatrices`, those the file stores as matrices (GPT-2's exports keep
 * a second, transposed copy of a tied embedding; the Hub's Llama-family files read a tied head
 * through a Transpose of the embedding, so it is stored once); `embeddings`, the tables looked up
 * by token or position; `small`, norms and biases.
 */
function weightCounts(model: CatalogModel): {
  matrices: number;
  storedMatrices: number;
  embeddings: number;
  small: number;
} {
  const h = model.hidden;
  if (model.family === 'gpt2') {
    const embeddings = (GPT2_VOCAB + GPT2_CONTEXT) * h;
    // per layer: qkv (3h^2), attention out (h^2), MLP up and down (8h^2); the exported LM head is
    // a second, transposed copy of the token embedding (the export stores the tied matrix twice)
    const matrices = model.layers * 12 * h * h + GPT2_VOCAB * h;
    // biases and layer norms: 13h per layer, 2h for the final norm
    const small = model.layers * 13 * h + 2 * h;
    return { matrices, storedMatrices: matrices, embeddings, small };
  }
  const q = model.heads * model.headDim;
  const kv = model.kvHeads * model.headDim;
  // q, k, v, o and SwiGLU's gate, up and down
  const layer = h * q + 2 * h * kv + q * h + 3 * h * model.intermediate;
  const head = model.vocab * h;
  const embeddings = model.vocab * h;
  // two RMSNorms a layer and the final one; Qwen2's q, k and v biases
  const small = model.layers * (2 * h + (model.family === 'qwen2' ? q + 2 * kv : 0)) + h;
  const blocks = model.layers * layer;
  return {
    matrices: blocks + head,
    storedMatrices: blocks + (model.tiedHead ? 0 : head),
    embeddings,
    small,
  };
}

/** bytes a stored matrix weight takes in a 4-bit file: half a byte, and a scale per block of 32 */
const Q4_BYTES = (scaleBytes: number, block = 32): number => 0.5 + scaleBytes / block;

/**
 * The size of a model's ONNX file (with its external data) for a dtype, from the dimensions.
 * GPT-2 (Xenova's exports): fp32 4 bytes and fp16 2 bytes a weight, including the export's second
 * copy of the embedding; q8 (dynamic int8) 1 byte a matrix weight with the embeddings and small
 * weights kept float32; within 1% of tools/build_standin.py's files (test/unit/catalog.test.ts).
 * The Llama family (onnx-community's exports): fp32 4 and fp16 2 bytes a parameter; q8, int8 and
 * uint8 1 byte a parameter; q4 and bnb4 half a byte a stored matrix weight plus its block's
 * float32 scale (blocks of 32 and 64), the embedding float32; q4f16 the same with float16 scales
 * and embedding. Within 10% of the Hub's files where they are listed (docs/models.md).
 */
export function estimatedBytes(model: CatalogModel, dtype: Dtype): number {
  const { storedMatrices, embeddings, small } = weightCounts(model);
  const all = storedMatrices + embeddings + small;
  if (model.family === 'gpt2') {
    if (dtype === 'q8' || dtype === 'int8' || dtype === 'uint8')
      return storedMatrices + 4 * (embeddings + small);
    if (dtype === 'fp16') return 2 * all;
    if (dtype === 'fp32') return 4 * all;
    // 4-bit files, which no GPT-2 repo of the catalog has: as the Llama family's
    return 4 * (embeddings + small) + storedMatrices * Q4_BYTES(4);
  }
  switch (dtype) {
    case 'fp32':
      return 4 * all;
    case 'fp16':
      return 2 * all;
    case 'q8':
    case 'int8':
    case 'uint8':
      return all;
    case 'q4':
      return 4 * (embeddings + small) + storedMatrices * Q4_BYTES(4);
    case 'q4f16':
      return 2 * (embeddings + small) + storedMatrices * Q4_BYTES(2);
    case 'bnb4':
      return 4 * (embeddings + small) + storedMatrices * Q4_BYTES(4, 64);
  }
}

/**
 * The draft/target cost ratio c to expect for a pair, before anything is downloaded: on a CPU
 * a pass is bound by reading the weights a token touches (every matrix, the LM head included,
 * and one embedding row), so c is about the ratio of the matrix weights. Measured on stand-ins:
 * gpt2 / gpt2-medium 0.36.
 */
export function expectedCostRatio(draft: CatalogModel, target: CatalogModel): number {
  return weightCounts(draft).matrices / weightCounts(target).matrices;
}

/** transformers.js' file-name suffix for each dtype (its DEFAULT_DTYPE_SUFFIX_MAPPING) */
export const DTYPE_SUFFIX: Record<Dtype, string> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
};

/** Decoder file base names an ONNX repo may use, preferred first. */
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
