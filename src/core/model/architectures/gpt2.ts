/**
 * GPT-2 (model_type "gpt2"), the first architecture entry: its config.json fields, the inputs an
 * optimum or transformers.js export takes, its past/present cache names, and its fused rebuild.
 */
import { z } from 'zod';
import { SpecDecError } from '../../errors';
import { fuseGpt2 } from '../fusedGpt2';
import { tokenIdList, type Architecture, type ModelConfig } from './architecture';

const Gpt2Config = z.object({
  model_type: z.string(),
  n_layer: z.number().int().positive(),
  n_head: z.number().int().positive(),
  n_embd: z.number().int().positive(),
  // the context length is n_positions, the field transformers' GPT2Config writes (n_ctx, in older
  // configs, repeats it): the one rule for every reader of a GPT-2 folder
  n_positions: z.number().int().positive(),
  vocab_size: z.number().int().positive(),
  eos_token_id: z.number().int().nonnegative().nullish(),
  bos_token_id: z.number().int().nonnegative().nullish(),
});

function readGpt2Config(raw: unknown, configPath: string): ModelConfig {
  const parsed = Gpt2Config.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SpecDecError(
      'MODEL_FOLDER_INVALID',
      `${configPath} is not a GPT-2 config: ${issue?.path.join('.') ?? '?'} ${issue?.message ?? ''}. Expected n_layer, n_head, n_embd, n_positions and vocab_size.`,
    );
  }
  const c = parsed.data;
  if (c.n_embd % c.n_head !== 0) {
    throw new SpecDecError(
      'MODEL_FOLDER_INVALID',
      `${configPath}: n_embd ${c.n_embd} is not a multiple of n_head ${c.n_head}.`,
    );
  }
  return {
    modelType: c.model_type,
    nLayer: c.n_layer,
    nHead: c.n_head,
    // every head has its own keys and values
    nKvHeads: c.n_head,
    nEmbd: c.n_embd,
    headDim: c.n_embd / c.n_head,
    nPositions: c.n_positions,
    vocabSize: c.vocab_size,
    eosTokenIds: tokenIdList(c.eos_token_id),
  };
}

export const gpt2: Architecture = {
  modelType: 'gpt2',
  displayName: 'GPT-2',
  readConfig: readGpt2Config,
  configFields: {
    nLayer: 'n_layer',
    nKvHeads: 'n_head',
    nEmbd: 'n_embd',
    headDim: 'n_embd / n_head',
    nPositions: 'n_positions',
    vocabSize: 'vocab_size',
  },
  inputs: {
    required: ['input_ids', 'attention_mask'],
    // position_ids: optimum's exports take them, some older ones derive them; use_cache_branch:
    // optimum's merged decoder (decoder_model_merged.onnx)
    optional: ['position_ids', 'use_cache_branch'],
  },
  cache: {
    pastName: (layer, role) => `past_key_values.${layer}.${role}`,
    presentName: (layer, role) => `present.${layer}.${role}`,
  },
  rebuild: fuseGpt2,
};
