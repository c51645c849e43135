/**
 * A model folder in Hugging Face layout: config.json, tokenizer files and an ONNX decoder.
 * One loader for the embedded pair, the test fixtures, Hub downloads and a user's own folder.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { SpecDecError, describeError } from '../errors';

/** Where a Hub export may keep its decoder, in order of preference. */
export const ONNX_CANDIDATES = ['onnx/model.onnx', 'onnx/decoder_model_merged.onnx'] as const;

const GptConfig = z.object({
  model_type: z.string(),
  n_layer: z.number().int().positive(),
  n_head: z.number().int().positive(),
  n_embd: z.number().int().positive(),
  n_positions: z.number().int().positive(),
  vocab_size: z.number().int().positive(),
  eos_token_id: z.number().int().nonnegative().nullish(),
  bos_token_id: z.number().int().nonnegative().nullish(),
});

export interface ModelConfig {
  modelType: string;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  headDim: number;
  nPositions: number;
  vocabSize: number;
  eosTokenId: number | null;
}

export interface ModelFolder {
  dir: string;
  /** a short display name: the folder name, or parent/folder for the embedded pair */
  name: string;
  onnxPath: string;
  config: ModelConfig;
}

/** `onnxFile`: the decoder to load (a Hub download names it); default the first candidate found */
export function readModelFolder(dirInput: string, onnxFile?: string): ModelFolder {
  const dir = resolve(dirInput);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new SpecDecError(
      'MODEL_FOLDER_MISSING',
      `Model folder not found: ${dir}. Pass a folder that holds config.json, tokenizer.json and onnx/model.onnx.`,
    );
  }
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) {
    throw new SpecDecError(
      'MODEL_FOLDER_INVALID',
      `${dir} has no config.json. A model folder needs config.json, tokenizer.json and onnx/model.onnx (Hugging Face layout).`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch (err) {
    throw new SpecDecError(
      'MODEL_FOLDER_INVALID',
      `${configPath} is not valid JSON (${describeError(err)}). Restore the file from the model's source.`,
    );
  }
  const parsed = GptConfig.safeParse(raw);
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
  if (!existsSync(join(dir, 'tokenizer.json'))) {
    throw new SpecDecError(
      'MODEL_FOLDER_INVALID',
      `${dir} has no tokenizer.json. Copy the tokenizer files of the model into the folder.`,
    );
  }
  const candidates = onnxFile ? [onnxFile] : ONNX_CANDIDATES;
  const onnxRel = candidates.find((rel) => existsSync(join(dir, rel)));
  if (!onnxRel) {
    throw new SpecDecError(
      'MODEL_FOLDER_INVALID',
      `${dir} has no ONNX decoder (looked for ${candidates.join(', ')}). Export the model to ONNX first.`,
    );
  }
  return {
    dir,
    name: `${basename(resolve(dir, '..'))}/${basename(dir)}`,
    onnxPath: join(dir, onnxRel),
    config: {
      modelType: c.model_type,
      nLayer: c.n_layer,
      nHead: c.n_head,
      nEmbd: c.n_embd,
      headDim: c.n_embd / c.n_head,
      nPositions: c.n_positions,
      vocabSize: c.vocab_size,
      eosTokenId: c.eos_token_id ?? null,
    },
  };
}
