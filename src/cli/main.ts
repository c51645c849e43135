#!/usr/bin/env node
/** `specdec`: SpecDec Studio's command line over src/core. */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { SpecDecError, describeError, type SettingName } from '../core/errors';
import {
  DEFAULT_KS,
  DEFAULT_MAX_NEW_TOKENS,
  DEFAULT_P_MIN,
  DEFAULT_REPEATS,
  DEFAULT_Q4_COMPUTE,
  DEFAULT_WARMUP,
  SEED_PROMPT,
} from '../shared/defaults';
import { MAX_SEED } from '../shared/limits';
import { parseTreeBudgets, parseTreeShapes } from '../shared/treeShape';
import {
  DEFAULT_DRAFTER,
  DEFAULT_POLICY,
  DRAFTERS,
  DRAFT_POLICIES,
  DTYPES,
  EXECUTION_PROVIDERS,
  GRAPHS,
  KV_LOCATIONS,
  Q4_COMPUTES,
} from '../shared/decoding';
import { PAIR_NAMES } from '../shared/catalogPairs';
import { EMBEDDED_PAIR } from './paths';
import type { SweepCliOptions } from './sweep/options';
import { CHAT_TEMPLATE_CHOICES } from '../core/model/chatTemplate';
import { SWEEP_EXAMPLES, TOP_EXAMPLES } from './helpExamples';
import {
  kList,
  nameList,
  numericFlags,
  probability,
  repetitionPenalty,
  threadCount,
} from './flagParsers';

// Each command's module (and onnxruntime-node, transformers.js behind it) is imported when the
// command runs, so `--help` and a bad argument answer without loading the engine.
const sweepAction = async (opts: SweepCliOptions): Promise<void> =>
  (await import('./sweepCommand')).sweepCommand(opts);
const benchAction = async (opts: Parameters<BenchCommand>[0]): Promise<void> =>
  (await import('./benchCommand')).benchCommand(opts);
const modelsAction = async (opts: Parameters<ModelsCommand>[0]): Promise<void> =>
  (await import('./modelsCommand')).modelsCommand(opts);
const serveAction = async (opts: Parameters<ServeCommand>[0]): Promise<void> =>
  (await import('./serveCommand')).serveCommand(opts);
type BenchCommand = typeof import('./benchCommand').benchCommand;
type ModelsCommand = typeof import('./modelsCommand').modelsCommand;
type ServeCommand = typeof import('./serveCommand').serveCommand;

// `specdec sweep | head`: a reader that stops early is not an error
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

/** Where each setting a core error names lives on the command line. */
const FLAGS: Record<SettingName, string> = {
  prompt: '--prompt',
  temperature: '--temperature',
  topK: '--top-k',
  topP: '--top-p',
  seed: '--seed',
  pMin: '--p-min',
  ep: '--ep, --target-ep or --draft-ep',
  kvLocation: '--kv-location',
  q4Compute: '--q4-compute',
  cacheDir: '--cache-dir',
  hubHost: '--hub-host',
  offline: '--offline',
  chatTemplate: '--chat-template',
};

function flagHint(settings: readonly SettingName[]): string {
  return settings.length === 0 ? '' : ` (set with ${settings.map((s) => FLAGS[s]).join(' or ')})`;
}

const EP_CHOICES = ['auto', ...EXECUTION_PROVIDERS];

/** `--acceptance 0.6,0.8`: controlled acceptance targets, each strictly between 0 and 1, once each */
function acceptanceList(value: string): number[] {
  const rates = value.split(',').map((s) => (s.trim() === '' ? NaN : Number(s.trim())));
  if (rates.some((a) => !(a > 0 && a < 1)))
    throw new InvalidArgumentError(
      `--acceptance must be numbers between 0 and 1, both excluded, separated by commas (got ${JSON.stringify(value)}).`,
    );
  return [...new Set(rates)];
}

/** `--tree 3,2,1` (repeatable, or `3,2,1;2,2,2`): static token-tree shapes, once each */
function treeShapes(value: string, previous: number[][] = []): number[][] {
  let shapes: number[][];
  try {
    shapes = parseTreeShapes([value]);
  } catch (err) {
    throw new InvalidArgumentError(describeError(err));
  }
  const seen = new Set(previous.map((s) => s.join(',')));
  return [...previous, ...shapes.filter((s) => !seen.has(s.join(',')))];
}

/** `--tree-budget 16` (repeatable, or `8,16,32`): dynamic trees' node budgets, once each */
function treeBudgets(value: string, previous: number[] = []): number[] {
  let budgets: number[];
  try {
    budgets = parseTreeBudgets([value]);
  } catch (err) {
    throw new InvalidArgumentError(describeError(err));
  }
  return [...previous, ...budgets.filter((b) => !previous.includes(b))];
}

function kvLocationOption(): Option {
  return new Option(
    '--kv-location <where>',
    'where the KV cache stays between passes: device (GPU memory, where onnxruntime-node allows: webgpu), host, or auto',
  )
    .choices(KV_LOCATIONS)
    .default('auto');
}

function graphOption(): Option {
  return new Option(
    '--graph <which>',
    "the graph the CPU provider runs: auto (the export rebuilt with onnxruntime's fused operators, checked against it at load) or exported (the file as it is)",
  )
    .choices(GRAPHS)
    .default('auto');
}

function q4ComputeOption(): Option {
  return new Option(
    '--q4-compute <how>',
    "how the CPU provider computes 4-bit (MatMulNBits) products: int8 (activations rounded to 8 bits per block of 32, integer products: accuracy_level 4 where the file sets none, as onnxruntime-genai's CPU exports and llama.cpp's Q4_0 do) or exported (the file's own level; the Hub's q4 files set none: float32). exported keeps speculation lossless; int8 is about twice as fast at real size but a multi-token pass rounds differently from a one-token pass, so output can part from the baseline at near-ties",
  )
    .choices(Q4_COMPUTES)
    .default(DEFAULT_Q4_COMPUTE);
}

const { maxNewTokens, repeats, warmup, topK, seed, noRepeatNgram, port, temperature, topP } =
  numericFlags;

const program = new Command('specdec')
  .description('SpecDec Studio: speculative decoding experiments on ONNX GPT-2 models')
  .showHelpAfterError(false)
  .exitOverride()
  .configureOutput({
    outputError: (str, write) => write(`specdec: ${str.replace(/^error: /, 'error: ')}`),
  })
  .addHelpText('after', TOP_EXAMPLES);

program
  .command('sweep')
  .description('greedy baseline, then speculative decoding for each K: time, passes, acceptance')
  .option(
    '--target <model>',
    'target: a model folder, a Hub repo id (Xenova/gpt2-medium) or a catalog name (gpt2-medium)',
    EMBEDDED_PAIR.target,
  )
  .option(
    '--draft <model>',
    'draft: a folder, a Hub repo id or a catalog name',
    EMBEDDED_PAIR.draft,
  )
  .addOption(
    new Option(
      '--pair <name>',
      `a catalog pair from the Hub: ${PAIR_NAMES.join(', ')} (seed: the exercise's, gpt2 drafting for gpt2-medium; \`specdec models\` lists them with sizes and published figures)`,
    )
      .choices(PAIR_NAMES)
      .conflicts(['target', 'draft']),
  )
  .addOption(
    new Option(
      '--dtype <dtype>',
      'ONNX weights to fetch for Hub models, by transformers.js names: fp32, fp16, q8 (dynamic int8), int8, uint8, q4, q4f16 (4-bit MatMulNBits), bnb4',
    )
      .choices(DTYPES)
      .default('fp32'),
  )
  .option('--cache-dir <dir>', 'where Hub downloads are kept (default: the platform cache folder)')
  .option('--hub-host <url>', 'a Hugging Face Hub mirror (default https://huggingface.co)')
  .option('--offline', 'use only models already in the cache; never touch the network')
  .option('--prompt <text>', 'prompt', SEED_PROMPT)
  .addOption(
    new Option(
      '--chat-template <mode>',
      "auto: render each prompt as a user's turn in the target's chat template where its tokenizer_config.json has one (instruct models); off: the prompt as it is",
    )
      .choices(CHAT_TEMPLATE_CHOICES)
      .default('auto'),
  )
  .option(
    '--prompts-file <file>',
    'a prompt set, one prompt per line (replaces --prompt); results per K over all prompts and per prompt',
  )
  .option('--max-new-tokens <n>', 'new tokens per run', maxNewTokens, DEFAULT_MAX_NEW_TOKENS)
  .option('--k <list>', 'draft lengths to test', kList, [...DEFAULT_KS])
  .option(
    '--repeats <n>',
    'measured repeats of every run (the best K is named only beyond their spread)',
    repeats,
    DEFAULT_REPEATS,
  )
  .option('--warmup <n>', 'warm-up runs (not counted)', warmup, DEFAULT_WARMUP)
  .option('--csv <file>', 'write one CSV row per run')
  .option(
    '--summary-csv <file>',
    "write the exercise's table as CSV: one row per configuration (K, policy, drafter, times, passes, acceptance, speedup, output sample)",
  )
  .option('--wide', 'print every column of the result table (by default it fits 100 columns)')
  .option(
    '--report <file>',
    'write the analysis (the five discussion questions, answered from the numbers) as Markdown, with SVG charts beside it',
  )
  .option('--json', 'print one JSON document on stdout and nothing else')
  .addOption(
    new Option('--no-kv-cache', 'also run the baseline without a KV cache, as the notebook does'),
  )
  .option(
    '--policy <names>',
    'draft length per step: fixed K, heuristic (+2/-1), confidence (stop below --p-min); several compare side by side',
    nameList('--policy', DRAFT_POLICIES),
    [DEFAULT_POLICY],
  )
  .option(
    '--p-min <x>',
    "confidence policy: stop drafting when the draft's top probability is below x",
    probability,
    DEFAULT_P_MIN,
  )
  .option(
    '--temperature <t>',
    'sample at this temperature (0 = greedy, the default)',
    temperature,
    0,
  )
  .option('--top-k <n>', 'sample from the n most likely tokens (0 = all)', topK, 0)
  .option('--top-p <p>', 'sample from the smallest set of tokens reaching probability p', topP, 1)
  .option('--seed <n>', `random seed for sampling (0 to ${MAX_SEED})`, seed, 0)
  .option(
    '--repetition-penalty <x>',
    "divide a seen token's logit by x (Hugging Face's repetition_penalty; 1 = off)",
    repetitionPenalty,
    1,
  )
  .option(
    '--no-repeat-ngram <n>',
    'never repeat an n-gram of this size (no_repeat_ngram_size; 0 = off)',
    noRepeatNgram,
    0,
  )
  .option(
    '--drafter <kinds>',
    'who drafts: the draft model, prompt lookup (n-gram matches in the context), or both: model,prompt-lookup',
    nameList('--drafter', DRAFTERS),
    [DEFAULT_DRAFTER],
  )
  .option(
    '--acceptance <list>',
    "controlled acceptance: the draft model runs every pass, but each drafted token is the target's with probability A (else one it rejects), so K can be chosen at alpha A on this machine; a list sweeps each A (greedy, fixed or heuristic policy, the model drafter). Static token trees (--tree) run under it too, greedy: every child slot holds the target's token with probability A; node budgets (--tree-budget) and sampling are refused",
    acceptanceList,
  )
  .option(
    '--tree <shape>',
    "a static token tree: the draft's top-b tokens at each depth (3,2,1: top-3, top-2 under each, then top-1; the first child the greedy one; with --temperature, b distinct draws verified by recursive rejection sampling), all verified in one target pass; repeat the flag or separate shapes with ';' to compare several beside the chains",
    treeShapes,
  )
  .option(
    '--tree-budget <n>',
    "a dynamic token tree, greedy (EAGLE-2's): the N drafted nodes whose paths have the highest product of draft probabilities, up to 8 deep, verified in one target pass; a list (8,16,32) or repeated flags compare several",
    treeBudgets,
  )
  .option(
    '--tree-verify <ways>',
    'how the target verifies each tree: mask (one pass, each node attending to its ancestors only: the fused GPT-2 graph on the CPU provider), rows (a batch row per root-to-leaf path: any graph), auto (mask where the graph takes it); a list runs each way as its own configuration',
    nameList('--tree-verify', ['auto', 'mask', 'rows'] as const),
    ['auto'],
  )
  .addOption(
    new Option('--ep <provider>', 'execution provider for both models')
      .choices(EP_CHOICES)
      .default('auto'),
  )
  .addOption(
    new Option('--target-ep <provider>', 'execution provider for the target').choices(EP_CHOICES),
  )
  .addOption(
    new Option('--draft-ep <provider>', 'execution provider for the draft').choices(EP_CHOICES),
  )
  .addOption(kvLocationOption())
  .addOption(graphOption())
  .addOption(q4ComputeOption())
  .option(
    '--threads <n>',
    'CPU threads per model for one operator, 0 for one per physical core (default: 1 for a model file up to 128 MB, where one is fastest; 0 for larger ones)',
    threadCount,
  )
  .option(
    '--data-dir <dir>',
    'where the execution-provider probe keeps its verdicts and log (default: the platform data folder)',
  )
  .option('--reprobe', 'measure the execution providers again instead of using the cached verdict')
  .option('--verbose', "print the execution-provider probe's details (its log file keeps them too)")
  .addHelpText('after', SWEEP_EXAMPLES)
  .action(sweepAction);

program
  .command('bench')
  .description(
    'engine benchmark on the embedded pair: session.run share, speedups, theory, transformers.js',
  )
  .option('--target <dir>', 'target model folder', EMBEDDED_PAIR.target)
  .option('--draft <dir>', 'draft model folder', EMBEDDED_PAIR.draft)
  .option('--max-new-tokens <n>', 'new tokens per run', maxNewTokens, DEFAULT_MAX_NEW_TOKENS)
  .option('--k <list>', 'draft lengths to test', kList, [1, 2, 3, 4, 5, 6, 8])
  .option('--repeats <n>', 'measured repeats', repeats, 5)
  .option(
    '--tree <shape>',
    "token trees instead: the target pass's cost against the tree's nodes (under the mask, as rows), then these shapes against the chains of --k, interleaved, with the verdict; repeat the flag or separate shapes with ';'",
    treeShapes,
  )
  .option('--tree-budget <n>', 'dynamic token trees (node budgets) beside --tree', treeBudgets)
  .addOption(
    new Option('--ep <provider>', 'execution provider for both models')
      .choices(EXECUTION_PROVIDERS)
      .default('cpu'),
  )
  .addOption(kvLocationOption())
  .addOption(graphOption())
  .addOption(q4ComputeOption())
  .action(benchAction);

program
  .command('models')
  .description(
    'the catalog: models and natural pairs offered from the Hub, sizes per dtype, published figures, what is cached',
  )
  .option('--cache-dir <dir>', 'the download cache (default: the platform cache folder)')
  .action(modelsAction);

program
  .command('serve')
  .description(
    'serve the app to a browser, with the engine in a child process (e.g. on a remote GPU machine)',
  )
  .option('--port <n>', 'port (0 picks a free one)', port, 5199)
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .option(
    '--data-dir <dir>',
    'where history and downloaded models are kept (default: the platform data folder)',
  )
  .option('--hub-host <url>', 'a Hugging Face Hub mirror for model downloads')
  .action(serveAction);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // commander has printed its message (or the help); a usage error exits 2 like ours
    process.exitCode = err.exitCode === 0 ? 0 : 2;
    return;
  }
  const msg =
    err instanceof SpecDecError ? err.message + flagHint(err.settings) : describeError(err);
  process.stderr.write(`specdec: error: ${msg}\n`);
  process.exitCode = 2;
});
