/** Loading a target (and optionally a draft) and checking that they can work together. */
import { SpecDecError } from '../errors';
import { OnnxCausalLM, type CausalLmOptions } from './causalLm';
import { readModelFolder, type ModelFolder } from './modelFolder';
import { loadTokenizer, type TextTokenizer } from './tokenizer';

export interface LoadedModel {
  folder: ModelFolder;
  lm: OnnxCausalLM;
  tokenizer: TextTokenizer;
}

export interface ModelPair {
  target: LoadedModel;
  draft: LoadedModel | null;
  /** the shared tokenizer (the target's) */
  tokenizer: TextTokenizer;
  /** the context both models can hold */
  nPositions: number;
  eosTokenId: number | null;
}

export interface ModelLoadOptions extends CausalLmOptions {
  /** the ONNX file inside the folder (Hub downloads name theirs) */
  onnxFile?: string | null;
}

export async function loadModel(dir: string, options: ModelLoadOptions = {}): Promise<LoadedModel> {
  const folder = readModelFolder(dir, options.onnxFile ?? undefined);
  const tokenizer = await loadTokenizer(folder.dir);
  const lm = await OnnxCausalLM.open(folder, options);
  return { folder, lm, tokenizer };
}

/** Throws PAIR_MISMATCH naming both models and the first difference, if the vocabularies differ. */
export function checkSameVocabulary(target: LoadedModel, draft: LoadedModel): void {
  const names = `target ${target.folder.dir} and draft ${draft.folder.dir}`;
  const fail = (what: string): never => {
    throw new SpecDecError(
      'PAIR_MISMATCH',
      `The ${names} have different vocabularies: ${what}. Speculative decoding needs one tokenizer: choose a draft from the target's model family.`,
    );
  };
  const tc = target.folder.config.vocabSize;
  const dc = draft.folder.config.vocabSize;
  if (tc !== dc) fail(`vocab_size ${tc} vs ${dc}`);
  const tv = target.tokenizer.vocab();
  const dv = draft.tokenizer.vocab();
  if (tv.size !== dv.size) fail(`${tv.size} vs ${dv.size} tokens`);
  for (const [token, id] of tv) {
    const other = dv.get(token);
    if (other !== id) {
      fail(
        `token ${JSON.stringify(token)} is id ${id} in the target but ${other === undefined ? 'missing' : `id ${other}`} in the draft`,
      );
    }
  }
}

export async function loadPair(
  targetDir: string,
  draftDir: string | null,
  options: { target?: ModelLoadOptions; draft?: ModelLoadOptions } = {},
): Promise<ModelPair> {
  const target = await loadModel(targetDir, options.target);
  const draft = draftDir === null ? null : await loadModel(draftDir, options.draft);
  if (draft) checkSameVocabulary(target, draft);
  const nPositions = Math.min(
    target.folder.config.nPositions,
    draft?.folder.config.nPositions ?? Infinity,
  );
  const eosTokenId = target.folder.config.eosTokenId ?? target.tokenizer.eosTokenId;
  return { target, draft, tokenizer: target.tokenizer, nPositions, eosTokenId };
}

export async function releasePair(pair: ModelPair): Promise<void> {
  await pair.target.lm.release();
  await pair.draft?.lm.release();
}
