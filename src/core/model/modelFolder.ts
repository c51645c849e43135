/**
 * A model folder in Hugging Face layout: config.json, tokenizer files and an ONNX decoder.
 * One loader for the embedded pair, the test fixtures, Hub downloads and a user's own folder.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { SpecDecError, describeError } from '../errors';
import type { ModelConfig } from './architectures/architecture';
import { readModelConfig } from './architectures/registry';

/** Where a Hub export may keep its decoder, in order of preference. */
export const ONNX_CANDIDATES = ['onnx/model.onnx', 'onnx/decoder_model_merged.onnx'] as const;

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
  const config = readModelConfig(raw, configPath);
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
    config,
  };
}

/**
 * The context length of a model folder (its architecture's rule, as a load reads it), or null
 * when its config.json cannot be read: a load will say why.
 */
export function contextLengthOf(dir: string): number | null {
  const configPath = join(resolve(dir), 'config.json');
  try {
    return readModelConfig(JSON.parse(readFileSync(configPath, 'utf8')), configPath).nPositions;
  } catch {
    return null;
  }
}
