/** Loading a target (and optionally a draft) and checking that they can work together. */
import { SpecDecError } from '../errors';
import type { ExecutionProviderChoice, GraphChoice, KvLocationChoice } from '../../shared/decoding';
import { OnnxCausalLM } from './causalLm';
import { cpuThreadsFor, resolveThreads } from './cpuThreads';
import { readModelFolder, type ModelFolder } from './modelFolder';
import { chooseProviders, type ProbeOptions } from './providerProbe';
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
  /** the ids that end the text: the target config's (one or a list), else the tokenizer's */
  eosTokenIds: readonly number[];
}

/** What a request is checked against before any session opens: the tokenizer and the context. */
export interface PairFit {
  tokenizer: TextTokenizer;
  nPositions: number;
  hasDraft: boolean;
}

export const pairFit = (pair: ModelPair): PairFit => ({
  tokenizer: pair.tokenizer,
  nPositions: pair.nPositions,
  hasDraft: pair.draft !== null,
});

export interface ModelLoadOptions {
  /** the ONNX file inside the folder (Hub downloads name theirs) */
  onnxFile?: string | null;
  /** default cpu; `auto` measures what this machine offers (providerProbe.ts) */
  executionProvider?: ExecutionProviderChoice;
  /** where the KV cache lives between passes (default auto: on the device where it can) */
  kvLocation?: KvLocationChoice;
  /** auto (default): the CPU provider runs a fused rebuild of the graph (rebuiltGraph.ts) */
  graph?: GraphChoice;
  /** the CPU provider's threads for one operator (0: one per physical core; default cpuThreadsFor) */
  threads?: number;
}

/** Throws PAIR_MISMATCH naming both models and the first difference, if the vocabularies differ. */
export function checkSameVocabulary(
  target: Pick<LoadedModel, 'folder' | 'tokenizer'>,
  draft: Pick<LoadedModel, 'folder' | 'tokenizer'>,
): void {
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

/** Run `work`, marking a SpecDecError it throws as being about the folder `dir`. */
async function about<T>(dir: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof SpecDecError) err.subject ??= dir;
    throw err;
  }
}

export interface LoadPairOptions {
  probe?: ProbeOptions;
  /** throws if the request cannot run on these models (checked before any session opens) */
  check?: (fit: PairFit) => void;
}

/**
 * Both folders are read and the tokenizers checked before a provider is probed or a session
 * opened, so a broken folder or a mismatched pair fails fast.
 */
export async function loadPair(
  targetDir: string,
  draftDir: string | null,
  options: LoadPairOptions & { target?: ModelLoadOptions; draft?: ModelLoadOptions } = {},
): Promise<ModelPair> {
  const roles = [
    { dir: targetDir, opts: options.target ?? {} },
    ...(draftDir === null ? [] : [{ dir: draftDir, opts: options.draft ?? {} }]),
  ];
  const prepared = await Promise.all(
    roles.map(({ dir, opts }) =>
      about(dir, async () => {
        const folder = readModelFolder(dir, opts.onnxFile ?? undefined);
        // one thread count for the probe's CPU trial and the session alike
        const cpuThreads = resolveThreads(opts.threads ?? cpuThreadsFor(folder.onnxPath));
        return { folder, tokenizer: await loadTokenizer(folder.dir), opts, dir, cpuThreads };
      }),
    ),
  );
  if (prepared[1]) checkSameVocabulary(prepared[0]!, prepared[1]);
  const nPositions = Math.min(...prepared.map((p) => p.folder.config.nPositions));
  const tokenizer = prepared[0]!.tokenizer;
  options.check?.({ tokenizer, nPositions, hasDraft: prepared.length > 1 });
  const choices = await chooseProviders(
    prepared.map((p) => ({
      folder: p.folder,
      choice: p.opts.executionProvider ?? 'cpu',
      kvLocation: p.opts.kvLocation ?? 'auto',
      cpuThreads: p.cpuThreads,
    })),
    options.probe,
  );
  const loaded: LoadedModel[] = [];
  try {
    for (const [i, p] of prepared.entries()) {
      const choice = choices[i]!;
      const lm = await about(p.dir, () =>
        OnnxCausalLM.open(p.folder, {
          executionProvider: choice.provider,
          providerChoice: choice,
          kvLocation: p.opts.kvLocation ?? 'auto',
          graph: p.opts.graph ?? 'auto',
          intraOpThreads: p.cpuThreads,
        }),
      );
      loaded.push({ folder: p.folder, tokenizer: p.tokenizer, lm });
    }
  } catch (err) {
    for (const m of loaded) await m.lm.release();
    throw err;
  }
  const [target, draft = null] = loaded as [LoadedModel, LoadedModel?];
  const fromConfig = target.folder.config.eosTokenIds;
  const eosTokenIds =
    fromConfig.length > 0
      ? fromConfig
      : tokenizer.eosTokenId === null
        ? []
        : [tokenizer.eosTokenId];
  return { target, draft, tokenizer, nPositions, eosTokenIds };
}

export async function releasePair(pair: ModelPair): Promise<void> {
  await pair.target.lm.release();
  await pair.draft?.lm.release();
}
