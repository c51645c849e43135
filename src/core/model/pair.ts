/**
 * Loading a target (and optionally a draft) and checking that they can work together: one
 * vocabulary (checked token by token), the ids both have logits for, and how a prompt becomes ids.
 */
import { SpecDecError } from '../errors';
import type {
  ExecutionProviderChoice,
  GraphChoice,
  KvLocationChoice,
  Q4Compute,
} from '../../shared/decoding';
import type { ChatTemplateUse } from '../../shared/history';
import { OnnxCausalLM } from './causalLm';
import { chatTemplateUse, promptTokenizer, type ChatTemplateChoice } from './chatTemplate';
import { cpuThreadsFor, resolveThreads } from './cpuThreads';
import { readModelFolder, type ModelFolder } from './modelFolder';
import { chooseProviders, type ProbeOptions } from './providerProbe';
import { loadTokenizer, type TextTokenizer } from './tokenizer';

export interface LoadedModel {
  folder: ModelFolder;
  lm: OnnxCausalLM;
  tokenizer: TextTokenizer;
}

/**
 * A pair whose logit widths differ (Qwen2.5-0.5B has 151,936 rows, 7B 152,064): both models'
 * logits are read over the first `compared` ids, the ids both have rows for.
 */
export interface LogitWidths {
  compared: number;
  target: number;
  draft: number;
}

/** "logits compared over the first 557 ids: the target has 640 rows, the draft 557" */
export function logitWidthNote(w: LogitWidths): string {
  return `logits compared over the first ${w.compared} ids: the target has ${w.target} rows, the draft ${w.draft}`;
}

export interface ModelPair {
  target: LoadedModel;
  draft: LoadedModel | null;
  /**
   * the shared tokenizer (the target's); its encode is a prompt's encoding, rendered in the
   * target's chat template when chatTemplate is 'applied' (chatTemplate.ts)
   */
  tokenizer: TextTokenizer;
  /** what a prompt goes through before it is ids */
  chatTemplate: ChatTemplateUse;
  /** null when both models have as many logit rows (or there is no draft) */
  logitWidths: LogitWidths | null;
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
  /** how the CPU provider computes 4-bit MatMulNBits products (default int8: matmulNBits.ts) */
  q4Compute?: Q4Compute;
}

/** a vocabulary by id: the token each id stands for (a hole where an id has none) */
function tokensById(vocab: Map<string, number>): (string | undefined)[] {
  const tokens: (string | undefined)[] = [];
  // transformers.js maps an id without a token to the key undefined: that id has none
  for (const [token, id] of vocab) if (typeof token === 'string') tokens[id] = token;
  return tokens;
}

const idIn = (vocab: Map<string, number>, token: string): string => {
  const id = vocab.get(token);
  return id === undefined ? 'missing' : `id ${id}`;
};

/**
 * Throws PAIR_MISMATCH naming both models and the first differing token (by id) if the
 * tokenizers do not map the same strings to the same ids; else returns the number of ids both
 * models have logits for (throwing if the narrower model has no row for a token of the vocabulary).
 */
export function checkSameVocabulary(
  target: Pick<LoadedModel, 'folder' | 'tokenizer'>,
  draft: Pick<LoadedModel, 'folder' | 'tokenizer'>,
): number {
  const names = `target ${target.folder.dir} and draft ${draft.folder.dir}`;
  const tv = target.tokenizer.vocab();
  const dv = draft.tokenizer.vocab();
  const tTokens = tokensById(tv);
  const dTokens = tokensById(dv);
  const sizes = tv.size === dv.size ? '' : ` (${tv.size} vs ${dv.size} tokens)`;
  for (let id = 0; id < Math.max(tTokens.length, dTokens.length); id++) {
    const [t, d] = [tTokens[id], dTokens[id]];
    if (t === d) continue;
    const what =
      t !== undefined
        ? `token ${JSON.stringify(t)} is id ${id} in the target but ${idIn(dv, t)} in the draft`
        : `token ${JSON.stringify(d)} is id ${id} in the draft but ${idIn(tv, d!)} in the target`;
    throw new SpecDecError(
      'PAIR_MISMATCH',
      `The ${names} have different vocabularies${sizes}: ${what} (the first id where they differ). Speculative decoding needs one tokenizer: choose a draft from the target's model family, with the target's tokenizer.json.`,
    );
  }
  const widths = [target, draft].map((m) => m.folder.config.vocabSize);
  const compared = Math.min(...widths);
  const last = tTokens.length - 1;
  // where the widths differ, the narrower model must score every token the wider one can
  if (compared < Math.max(...widths) && last >= compared) {
    const short = target.folder.config.vocabSize === compared ? target : draft;
    throw new SpecDecError(
      'PAIR_MISMATCH',
      `The tokenizer of the ${names} has token ${JSON.stringify(tTokens[last])} at id ${last}, but ${short.folder.dir} has logits for ids 0 to ${compared - 1} only (vocab_size ${compared}): it could never score that token. Choose models whose logits cover the tokenizer.`,
    );
  }
  return compared;
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
  /** auto (default): render prompts in the target's chat template where it has one */
  chatTemplate?: ChatTemplateChoice;
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
  type Prepared = (typeof prepared)[number];
  const [targetSide, draftSide] = prepared as [Prepared, Prepared?];
  const compared = draftSide ? checkSameVocabulary(targetSide, draftSide) : null;
  const logitWidths =
    draftSide && compared !== null && prepared.some((p) => p.folder.config.vocabSize !== compared)
      ? {
          compared,
          target: targetSide.folder.config.vocabSize,
          draft: draftSide.folder.config.vocabSize,
        }
      : null;
  const nPositions = Math.min(...prepared.map((p) => p.folder.config.nPositions));
  const chatTemplate = chatTemplateUse(targetSide.tokenizer, options.chatTemplate ?? 'auto');
  const tokenizer = promptTokenizer(targetSide, draftSide ?? null, chatTemplate);
  options.check?.({ tokenizer, nPositions, hasDraft: prepared.length > 1 });
  const choices = await chooseProviders(
    prepared.map((p) => ({
      folder: p.folder,
      choice: p.opts.executionProvider ?? 'cpu',
      kvLocation: p.opts.kvLocation ?? 'auto',
      cpuThreads: p.cpuThreads,
      ...(p.opts.q4Compute ? { q4Compute: p.opts.q4Compute } : {}),
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
          ...(p.opts.q4Compute ? { q4Compute: p.opts.q4Compute } : {}),
          intraOpThreads: p.cpuThreads,
          // both models read over the ids they share (only a pair whose widths differ)
          ...(logitWidths ? { logitWidth: logitWidths.compared } : {}),
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
  return { target, draft, tokenizer, chatTemplate, logitWidths, nPositions, eosTokenIds };
}

export async function releasePair(pair: ModelPair): Promise<void> {
  await pair.target.lm.release();
  await pair.draft?.lm.release();
}
