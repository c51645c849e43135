/**
 * What the engine must know about a model family to run its ONNX decoder: how its config.json
 * reads, which inputs a pass feeds, how its KV cache is named and shaped, and whether a fused
 * rebuild of its graph exists. One entry per family (gpt2.ts, llama.ts, qwen2.ts, phi3.ts);
 * registry.ts finds it by model_type.
 */

/** A model's config.json, normalised: the same fields whatever names its family gives them. */
export interface ModelConfig {
  /** config.json's model_type, as written */
  modelType: string;
  nLayer: number;
  /** attention (query) heads */
  nHead: number;
  /** key/value heads: the cache's head count (nHead unless the family groups its queries) */
  nKvHeads: number;
  /** the hidden size */
  nEmbd: number;
  headDim: number;
  /** the context length: positions the model can hold */
  nPositions: number;
  vocabSize: number;
  /**
   * the end-of-text ids config.json names (one, or a list as Llama 3's); empty when it names none
   * (the tokenizer's is used)
   */
  eosTokenIds: readonly number[];
}

/** config.json's eos_token_id, a number or a list, as a list (empty when absent) */
export const tokenIdList = (ids: number | readonly number[] | null | undefined): number[] =>
  ids === null || ids === undefined ? [] : typeof ids === 'number' ? [ids] : [...ids];

/**
 * The inputs a decoder pass may take, beside the cache: the new tokens, the attention mask over
 * all of them (a run is one unpadded sequence: all ones), their positions, and the merged
 * decoder's switch between its first pass and the cached ones (passFeeds.ts builds them).
 */
export type PassInput = 'input_ids' | 'attention_mask' | 'position_ids' | 'use_cache_branch';

export interface PassInputs {
  /** the graph must have these */
  required: readonly PassInput[];
  /** fed when the graph has them (exporters differ) */
  optional: readonly PassInput[];
}

export type CacheRole = 'key' | 'value';

/**
 * The KV cache's names: one slot per layer and role, fed as `past` and returned as `present`.
 * Every slot is [batch, kv heads, positions, head dim] (batch 1 but while a token tree's paths
 * run as rows), of the element type the export chose
 * (float32, or float16 for fp16 exports).
 */
export interface CacheLayout {
  pastName(layer: number, role: CacheRole): string;
  presentName(layer: number, role: CacheRole): string;
}

/** A pass's cache slots in feed order, each with its input and output name. */
export interface CacheSlot {
  past: string;
  present: string;
}

/** The sizes of a ModelConfig that its ONNX file can contradict. */
export type CheckedField = 'nLayer' | 'nKvHeads' | 'nEmbd' | 'headDim' | 'nPositions' | 'vocabSize';

export interface Architecture {
  /** config.json's model_type this entry is for */
  modelType: string;
  /** the family's name in messages ("GPT-2") */
  displayName: string;
  /**
   * config.json (parsed JSON, read from `configPath`) normalised; throws MODEL_FOLDER_INVALID
   * saying what is missing or wrong
   */
  readConfig(raw: unknown, configPath: string): ModelConfig;
  /**
   * config.json's name for each size the ONNX file is checked against (configCheck.ts), as a
   * refusal names it ("n_positions"; "n_embd / n_head" for a value it derives)
   */
  configFields: Readonly<Record<CheckedField, string>>;
  inputs: PassInputs;
  cache: CacheLayout;
  /**
   * The export rebuilt with onnxruntime's fused operators for the CPU provider, from the file's
   * bytes; it throws NotFusable (fusedGpt2.ts) with the reason when the file is not rebuilt. Null:
   * this family has no rebuild, its exports always run as they are.
   */
  rebuild:
    | ((bytes: Uint8Array, config: ModelConfig, options?: { treeBias?: boolean }) => Uint8Array)
    | null;
}

/** The cache slots of a model: layer by layer, key before value. */
export function cacheSlots(architecture: Architecture, config: ModelConfig): CacheSlot[] {
  const slots: CacheSlot[] = [];
  for (let layer = 0; layer < config.nLayer; layer++) {
    for (const role of ['key', 'value'] as const) {
      slots.push({
        past: architecture.cache.pastName(layer, role),
        present: architecture.cache.presentName(layer, role),
      });
    }
  }
  return slots;
}

/** One cache slot's dims at `positions` cached tokens (`batch` rows: a token tree's paths). */
export function cacheSlotDims(config: ModelConfig, positions: number, batch = 1): number[] {
  return [batch, config.nKvHeads, positions, config.headDim];
}
