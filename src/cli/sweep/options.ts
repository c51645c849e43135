/**
 * `specdec sweep`'s flags as commander hands them over, and what they mean in the protocol's
 * terms: the prompt set, the pair and the settings the run plan (src/lab/runPlan.ts) takes.
 */
import { readFileSync } from 'node:fs';
import type {
  DraftPolicyName,
  DrafterKind,
  Dtype,
  ExecutionProviderChoice,
  GraphChoice,
  Q4Compute,
  KvLocationChoice,
} from '../../shared/decoding';
import type { PairChoice, SweepSettings } from '../../shared/protocol';
import { PAIR_NAMES, catalogPair } from '../../shared/catalogPairs';
import { SpecDecError, describeError } from '../../core/errors';
import type { ModelPlacement } from '../../lab/runPlan';
import type { ChatTemplateChoice } from '../../core/model/chatTemplate';

export interface SweepCliOptions {
  /** a folder, a Hub repo id or a catalog name */
  target: string;
  draft: string;
  /** a catalog pair's name (catalogPairs.ts; `seed`: gpt2 drafts for gpt2-medium), from the Hub (overrides --target/--draft) */
  pair?: string;
  dtype: Dtype;
  cacheDir?: string;
  hubHost?: string;
  offline?: boolean;
  prompt: string;
  /** auto: prompts rendered in the target's chat template where it has one; off: as they are */
  chatTemplate: ChatTemplateChoice;
  promptsFile?: string;
  maxNewTokens: number;
  k: number[];
  repeats: number;
  warmup: number;
  csv?: string;
  /** write the exercise's table (one row per configuration) as CSV to this file */
  summaryCsv?: string;
  /** print every column of the result table instead of fitting 100 columns */
  wide?: boolean;
  /** write the analysis as Markdown to this file, with SVG charts beside it */
  report?: string;
  json?: boolean;
  kvCache: boolean;
  policy: DraftPolicyName[];
  pMin: number;
  drafter: DrafterKind[];
  /** controlled acceptance targets (`--acceptance`); absent: real drafting */
  acceptance?: number[];
  /** static token-tree shapes (`--tree 3,2,1`, repeatable or ';'-separated); absent: chains only */
  tree?: number[][];
  /** dynamic token trees' node budgets (`--tree-budget 16`, a list); absent: none */
  treeBudget?: number[];
  /** how the target verifies each tree (`--tree-verify auto|mask|rows`, a list) */
  treeVerify: Array<'auto' | 'mask' | 'rows'>;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  repetitionPenalty: number;
  /** `--no-repeat-ngram N` (commander names a `--no-` option after what follows it) */
  repeatNgram: number;
  ep: ExecutionProviderChoice;
  targetEp?: ExecutionProviderChoice;
  draftEp?: ExecutionProviderChoice;
  kvLocation: KvLocationChoice;
  /** the graph the CPU provider runs (auto: the fused rebuild where it can) */
  graph: GraphChoice;
  /** how the CPU provider computes 4-bit MatMulNBits products (int8 or the file's own level) */
  q4Compute: Q4Compute;
  threads?: number;
  /** where the provider probe keeps its verdicts and log */
  dataDir?: string;
  /** probe the execution providers again instead of using the cached verdict */
  reprobe?: boolean;
  /** print the provider probe's details (also in its log file) */
  verbose?: boolean;
}

/** One prompt per line; blank lines are skipped, so a file can be grouped with them. */
export function readPromptsFile(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SpecDecError(
      'BAD_ARGUMENT',
      `Cannot read the prompts file ${file}: ${describeError(err)}. Give a text file with one prompt per line.`,
    );
  }
  const prompts = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  if (prompts.length === 0) {
    throw new SpecDecError(
      'PROMPT_EMPTY',
      `The prompts file ${file} has no prompts. Put one prompt on each line.`,
    );
  }
  return prompts;
}

/** the prompt set: the prompts file's lines, or the one --prompt */
export function promptsOf(opts: SweepCliOptions): string[] {
  return opts.promptsFile ? readPromptsFile(opts.promptsFile) : [opts.prompt];
}

/** the pair the flags name (--pair seed, or --target and --draft), as the app would send it */
export function pairChoiceOf(opts: SweepCliOptions): PairChoice {
  const named = opts.pair !== undefined ? catalogPair(opts.pair) : null;
  if (opts.pair !== undefined && !named) {
    throw new SpecDecError(
      'BAD_ARGUMENT',
      `--pair ${opts.pair} is not a catalog pair; choose one of ${PAIR_NAMES.join(', ')} (specdec models lists them).`,
    );
  }
  const sources = named
    ? { target: named.target, draft: named.draft }
    : { target: opts.target, draft: opts.draft };
  return {
    target: { source: sources.target, dtype: opts.dtype, ep: opts.targetEp ?? opts.ep },
    draft: { source: sources.draft, dtype: opts.dtype, ep: opts.draftEp ?? opts.ep },
    offline: opts.offline ?? false,
  };
}

/** where both models run beyond their provider: the same for the target and the draft */
export function placementOf(opts: SweepCliOptions): ModelPlacement {
  return {
    kvLocation: opts.kvLocation,
    graph: opts.graph,
    q4Compute: opts.q4Compute,
    ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
  };
}

/**
 * The sweep's settings as the protocol defines them: temperature 0 is greedy (no sampling), and
 * a penalty of 1 with no n-gram ban is repetition off.
 */
export function sweepSettingsOf(opts: SweepCliOptions, prompts: string[]): SweepSettings {
  return {
    pair: pairChoiceOf(opts),
    prompts,
    maxNewTokens: opts.maxNewTokens,
    ks: opts.k,
    repeats: opts.repeats,
    policies: opts.policy,
    drafters: opts.drafter,
    pMin: opts.pMin,
    sampling:
      opts.temperature !== 0
        ? { temperature: opts.temperature, topK: opts.topK, topP: opts.topP, seed: opts.seed }
        : null,
    repetition:
      opts.repetitionPenalty !== 1 || opts.repeatNgram !== 0
        ? { penalty: opts.repetitionPenalty, noRepeatNgram: opts.repeatNgram }
        : null,
  };
}
