/**
 * A model folder in Hugging Face layout: config.json, tokenizer files and an ONNX decoder.
 * One loader for the embedded pair, the test fixtures, Hub downloads and a user's own folder.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { SpecDecError, describeError } from '../errors';
import type { ModelConfig } from './architectures/architecture';
import { architectureOf, readModelConfig } from './architectures/registry';
import { checkConfigAgainstOnnx } from './configCheck';
import { CONFIG_MAX_BYTES, readModelText, regularFileSize } from './modelFiles';
import { readOnnxLayout, type OnnxLayout } from './onnxLayout';

/** Where a Hub export may keep its decoder, in order of preference. */
export const ONNX_CANDIDATES = ['onnx/model.onnx', 'onnx/decoder_model_merged.onnx'] as const;

export interface ModelFolder {
  dir: string;
  /** a short display name: the folder name, or parent/folder for the embedded pair */
  name: string;
  onnxPath: string;
  config: ModelConfig;
}

/**
 * `onnxFile`: the decoder to load (a Hub download names it); default the first candidate found.
 * Every file is checked to be a regular file before anything reads it, and the config against
 * the ONNX file's own sizes (configCheck.ts) before anything is allocated from it.
 */
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
    raw = JSON.parse(readModelText(dir, configPath, CONFIG_MAX_BYTES));
  } catch (err) {
    if (err instanceof SpecDecError) throw err;
    throw new SpecDecError(
      'MODEL_FOLDER_INVALID',
      `${configPath} is not valid JSON (${describeError(err)}). Restore the file from the model's source.`,
    );
  }
  const config = readModelConfig(raw, configPath);
  const tokenizerPath = join(dir, 'tokenizer.json');
  if (!existsSync(tokenizerPath)) {
    throw new SpecDecError(
      'MODEL_FOLDER_INVALID',
      `${dir} has no tokenizer.json. Copy the tokenizer files of the model into the folder.`,
    );
  }
  regularFileSize(dir, tokenizerPath);
  const candidates = onnxFile ? [onnxFile] : ONNX_CANDIDATES;
  const onnxRel = candidates.find((rel) => existsSync(join(dir, rel)));
  if (!onnxRel) {
    throw new SpecDecError(
      'MODEL_FOLDER_INVALID',
      `${dir} has no ONNX decoder (looked for ${candidates.join(', ')}). Export the model to ONNX first.`,
    );
  }
  const onnxPath = join(dir, onnxRel);
  regularFileSize(dir, onnxPath);
  const layout = readLayout(onnxPath);
  // weights beside the graph: onnxruntime reads them, so they must be files too
  for (const file of layout.externalFiles) {
    const path = resolve(dirname(onnxPath), file);
    if (!existsSync(path))
      throw new SpecDecError(
        'MODEL_FOLDER_INVALID',
        `${onnxRel} keeps its weights in ${file}, which is not beside it in ${dir}. Download or copy that file too.`,
      );
    regularFileSize(dir, path);
  }
  checkConfigAgainstOnnx(config, layout, architectureOf(config.modelType), configPath, onnxRel);
  return {
    dir,
    name: `${basename(resolve(dir, '..'))}/${basename(dir)}`,
    onnxPath,
    config,
  };
}

/** the ONNX file's layout; throws ONNX_INVALID, in the words a failed session gives, when unreadable */
function readLayout(onnxPath: string): OnnxLayout {
  try {
    return readOnnxLayout(onnxPath);
  } catch (err) {
    throw new SpecDecError(
      'ONNX_INVALID',
      `Could not load ${onnxPath}: ${describeError(err)}. The file may be truncated or corrupt; re-export or re-download the model.`,
    );
  }
}

/**
 * The context length of a model folder (its architecture's rule, as a load reads it), or null
 * when its config.json cannot be read: a load will say why.
 */
export function contextLengthOf(dir: string): number | null {
  const configPath = join(resolve(dir), 'config.json');
  try {
    const text = readModelText(resolve(dir), configPath, CONFIG_MAX_BYTES);
    return readModelConfig(JSON.parse(text), configPath).nPositions;
  } catch {
    return null;
  }
}
