/**
 * Llama (model_type "llama": Llama 3.x, SmolLM2, TinyLlama): transformers' LlamaConfig fields, the
 * inputs optimum and transformers.js exports take (position_ids required: rotary embeddings read
 * them), and a cache of num_key_value_heads heads (grouped-query attention). No fused rebuild:
 * token trees take their mask in the export's own attention (treeMaskGraph.ts).
 */
import { z } from 'zod';
import { SpecDecError } from '../../errors';
import { tokenIdList, type Architecture, type ModelConfig } from './architecture';

const TokenIds = z.union([z.number().int().nonnegative(), z.array(z.number().int().nonnegative())]);

const LlamaConfig = z.object({
  model_type: z.string(),
  num_hidden_layers: z.number().int().positive(),
  num_attention_heads: z.number().int().positive(),
  // absent in configs written before grouped-query attention: every head has its own
  num_key_value_heads: z.number().int().positive().nullish(),
  hidden_size: z.number().int().positive(),
  // absent in older configs: hidden_size / num_attention_heads
  head_dim: z.number().int().positive().nullish(),
  max_position_embeddings: z.number().int().positive(),
  vocab_size: z.number().int().positive(),
  eos_token_id: TokenIds.nullish(),
});

function readLlamaConfig(raw: unknown, configPath: string, displayName: string): ModelConfig {
  const parsed = LlamaConfig.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SpecDecError(
      'MODEL_FOLDER_INVALID',
      `${configPath} is not a ${displayName} config: ${issue?.path.join('.') ?? '?'} ${issue?.message ?? ''}. Expected num_hidden_layers, num_attention_heads, hidden_size, max_position_embeddings and vocab_size.`,
    );
  }
  const c = parsed.data;
  const invalid = (why: string): never => {
    throw new SpecDecError('MODEL_FOLDER_INVALID', `${configPath}: ${why}.`);
  };
  const kvHeads = c.num_key_value_heads ?? c.num_attention_heads;
  if (c.num_attention_heads % kvHeads !== 0)
    invalid(
      `num_attention_heads ${c.num_attention_heads} is not a multiple of num_key_value_heads ${kvHeads}`,
    );
  if (c.head_dim == null && c.hidden_size % c.num_attention_heads !== 0)
    invalid(
      `hidden_size ${c.hidden_size} is not a multiple of num_attention_heads ${c.num_attention_heads} and no head_dim is given`,
    );
  return {
    modelType: c.model_type,
    nLayer: c.num_hidden_layers,
    nHead: c.num_attention_heads,
    nKvHeads: kvHeads,
    nEmbd: c.hidden_size,
    headDim: c.head_dim ?? c.hidden_size / c.num_attention_heads,
    nPositions: c.max_position_embeddings,
    vocabSize: c.vocab_size,
    eosTokenIds: tokenIdList(c.eos_token_id),
  };
}

/**
 * The entry of a family whose config.json and ONNX interface are Llama's (Qwen2: its q/k/v biases
 * live inside the graph), under its own model_type and name.
 */
export const llamaLike = (modelType: string, displayName: string): Architecture => ({
  modelType,
  displayName,
  readConfig: (raw, configPath) => readLlamaConfig(raw, configPath, displayName),
  configFields: {
    nLayer: 'num_hidden_layers',
    nKvHeads: 'num_key_value_heads',
    nEmbd: 'hidden_size',
    headDim: 'head_dim (or hidden_size / num_attention_heads)',
    nPositions: 'max_position_embeddings',
    vocabSize: 'vocab_size',
  },
  inputs: {
    // rotary embeddings read the positions: a llama export always takes them
    required: ['input_ids', 'attention_mask', 'position_ids'],
    optional: ['use_cache_branch'],
  },
  cache: {
    pastName: (layer, role) => `past_key_values.${layer}.${role}`,
    presentName: (layer, role) => `present.${layer}.${role}`,
  },
  rebuild: null,
});

export const llama: Architecture = llamaLike('llama', 'Llama');
