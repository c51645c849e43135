/** `specdec sweep`: the exercise's K sweep from the command line. */
import { accessSync, constants, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import Table from 'cli-table3';
import type {
  DraftPolicyName,
  DrafterKind,
  ExecutionProviderChoice,
  GraphChoice,
  KvLocationChoice,
} from '../shared/decoding';
import type { RunRow } from '../shared/protocol';
import {
  bestOf,
  bestRow,
  bestSentence,
  comparesStrategies,
  summarizeByPrompt,
  summarizeRows,
  variantLabel,
  type SummaryRow,
} from '../results/summary';
import { loopNote } from '../results/loops';
import { expectedSpeedup, predictedMeasuredCost } from '../results/theory';
import { SpecDecError, describeError } from '../core/errors';
import { releasePair } from '../core/model/pair';
import type { OnnxCausalLM } from '../core/model/causalLm';
import { openPair } from '../core/hub/openPair';
import type { Dtype } from '../shared/decoding';
import { SEED_PAIR } from '../shared/catalog';
import { defaultCacheDir, defaultDataDir } from './paths';
import { downloadBar } from './downloadProgress';
import { runExperiment } from '../lab/experiment';
import { pairProviders } from '../lab/runRows';
import { runsCsv } from '../results/runsCsv';
import { probeFiles } from '../core/model/providerProbe';
import { writeAnalysisReport } from './analysisReport';
import { makeFolders } from '../core/atomicWrite';
import {
  checkSweepConfig,
  checkSweepSettings,
  type SweepConfig,
  type SweepRun,
} from '../core/experiment/sweep';

export interface SweepCliOptions {
  /** a folder, a Hub repo id or a catalog name */
  target: string;
  draft: string;
  /** `seed`: gpt2 drafts for gpt2-medium, from the Hub (overrides --target/--draft) */
  pair?: 'seed';
  dtype: Dtype;
  cacheDir?: string;
  hubHost?: string;
  offline?: boolean;
  prompt: string;
  promptsFile?: string;
  maxNewTokens: number;
  k: number[];
  repeats: number;
  warmup: number;
  csv?: string;
  /** write the analysis as Markdown to this file, with SVG charts beside it */
  report?: string;
  json?: boolean;
  kvCache: boolean;
  policy: DraftPolicyName[];
  pMin: number;
  drafter: DrafterKind[];
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
  threads?: number;
  /** where the provider probe keeps its verdicts and log */
  dataDir?: string;
  /** probe the execution providers again instead of using the cached verdict */
  reprobe?: boolean;
  /** print the provider probe's details (also in its log file) */
  verbose?: boolean;
}

/**
 * where a GPU-run model kept its KV cache (on the CPU it can only be in host memory), and the
 * graph a CPU-run one ran (with why not the fused one, when it was tried and not used)
 */
const kvNote = (lm: OnnxCausalLM): string =>
  lm.executionProvider === 'cpu'
    ? (lm.graph === 'fused'
        ? ', fused graph'
        : lm.graphNote
          ? `, graph as exported (not fused: ${lm.graphNote})`
          : '') + threadsNote(lm.threads)
    : lm.kvLocation === 'device'
      ? ', KV cache on the device'
      : ', KV cache in host memory';

const threadsNote = (threads: number): string => (threads === 1 ? '' : `, ${threads} threads`);

const fmt = (v: number | null, digits = 2): string => (v === null ? '-' : v.toFixed(digits));

/**
 * An output file can be written: its folder, or the nearest folder above it that exists (the
 * rest is made when writing), is a folder we may write to. Checked before the sweep runs, so a
 * typo in a path does not throw away a finished sweep.
 */
function checkWritable(flag: string, file: string): void {
  let dir = dirname(resolve(file));
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  try {
    if (!statSync(dir).isDirectory()) throw new Error(`${dir} is not a folder`);
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new SpecDecError(
      'BAD_ARGUMENT',
      `${flag} ${file}: cannot write there (${describeError(err)}). Give a path in a folder you can write to.`,
    );
  }
}

/** Write an output file, making its folder first. */
function writeOutput(file: string, text: string): void {
  makeFolders(dirname(resolve(file)));
  writeFileSync(file, text);
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

export async function sweepCommand(opts: SweepCliOptions): Promise<void> {
  const prompts = opts.promptsFile ? readPromptsFile(opts.promptsFile) : [opts.prompt];
  const config: SweepConfig = {
    prompts,
    maxNewTokens: opts.maxNewTokens,
    ks: opts.k,
    repeats: opts.repeats,
    warmup: opts.warmup,
    noKvCache: !opts.kvCache,
    policies: opts.policy,
    pMin: opts.pMin,
    drafters: opts.drafter,
    ...(opts.temperature !== 0
      ? {
          sampling: {
            temperature: opts.temperature,
            topK: opts.topK,
            topP: opts.topP,
            seed: opts.seed,
          },
        }
      : {}),
    ...(opts.repetitionPenalty !== 1 || opts.repeatNgram !== 0
      ? { repetition: { penalty: opts.repetitionPenalty, noRepeatNgram: opts.repeatNgram } }
      : {}),
  };
  // Arguments first: nothing is downloaded, probed or loaded for a request that cannot run.
  checkSweepSettings(config, true);
  for (const [flag, file] of [
    ['--csv', opts.csv],
    ['--report', opts.report],
  ] as const) {
    if (file) checkWritable(flag, file);
  }
  const sources = opts.pair === 'seed' ? SEED_PAIR : { target: opts.target, draft: opts.draft };
  const dataDir = opts.dataDir ?? defaultDataDir();
  const probe = {
    ...probeFiles(dataDir),
    reprobe: opts.reprobe ?? false,
    ...(opts.verbose ? { onLog: (line: string) => process.stderr.write(`probe: ${line}\n`) } : {}),
  };
  const bar = downloadBar();
  const download = new AbortController();
  const onSigintDuringDownload = (): void => download.abort();
  process.once('SIGINT', onSigintDuringDownload);
  let opened;
  try {
    opened = await openPair(
      {
        source: sources.target,
        dtype: opts.dtype,
        ep: opts.targetEp ?? opts.ep,
        kvLocation: opts.kvLocation,
        graph: opts.graph,
        ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
      },
      {
        source: sources.draft,
        dtype: opts.dtype,
        ep: opts.draftEp ?? opts.ep,
        kvLocation: opts.kvLocation,
        graph: opts.graph,
        ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
      },
      {
        cacheDir: opts.cacheDir ?? defaultCacheDir(),
        offline: opts.offline ?? false,
        signal: download.signal,
        onProgress: (p) => bar.update(p),
        ...(opts.hubHost ? { hubHost: opts.hubHost } : {}),
      },
      { probe, check: (fit) => checkSweepConfig(config, fit) },
    );
  } finally {
    bar.stop();
    process.off('SIGINT', onSigintDuringDownload);
  }
  const pair = opened.pair;
  const providers = pairProviders(pair);
  if (opts.verbose) process.stderr.write(`probe: log in ${probe.logFile}\n`);
  const runBar = new SingleBar(
    {
      stream: process.stderr,
      format: '{bar} {value}/{total} runs | {label} | {tokens} tokens',
      hideCursor: true,
      clearOnComplete: true,
    },
    Presets.shades_classic,
  );
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  process.once('SIGINT', onSigint);
  let tokens = 0;
  const strategies = opts.policy.length > 1 || opts.drafter.length > 1;
  let result;
  try {
    result = await runExperiment(
      pair,
      config,
      {
        onRunStart: (run) => {
          if (run.index === 0) runBar.start(run.total, 0, { label: '', tokens: 0 });
          tokens = 0;
          const where =
            prompts.length > 1 ? `, prompt ${run.promptIndex + 1}/${prompts.length}` : '';
          const label = `${variantLabel(run, strategies)} (repeat ${run.repeat + 1}/${opts.repeats}${where})`;
          runBar.update(run.index, { label, tokens });
        },
        onEvent: (ev) => {
          if (ev.type === 'step-end') {
            tokens = ev.metrics.newTokens;
            runBar.update({ tokens });
          }
        },
        onRunEnd: () => runBar.increment(),
      },
      controller.signal,
    );
  } finally {
    runBar.stop();
    process.off('SIGINT', onSigint);
    await releasePair(pair);
  }
  const { rows, theory } = result;
  const predicted = (r: SweepRun): number | null =>
    theory && r.mode === 'speculative' && r.drafter === 'model'
      ? expectedSpeedup(theory.alpha, theory.c, r.k!)
      : null;
  // A file that cannot be written must not cost the results: they are still printed, and the
  // failure is reported after them.
  const failedWrites: string[] = [];
  const attempt = (flag: string, file: string, write: () => void): void => {
    try {
      write();
    } catch (err) {
      failedWrites.push(`${flag} ${file}: ${describeError(err)}`);
    }
  };
  if (opts.csv) {
    const csvFile = opts.csv;
    attempt('--csv', csvFile, () =>
      writeOutput(
        csvFile,
        runsCsv(rows, {
          prompts,
          models: { target: opened.target.name, draft: opened.draft?.name ?? null },
          dtypes: { target: opts.dtype, draft: pair.draft ? opts.dtype : null },
          sampling: config.sampling ?? null,
          repetition: config.repetition ?? null,
        }),
      ),
    );
  }
  if (opts.report) {
    const reportFile = opts.report;
    attempt('--report', reportFile, () => {
      makeFolders(dirname(resolve(reportFile)));
      const written = writeAnalysisReport(reportFile, {
        rows,
        theory,
        prompts,
        models: { target: pair.target.folder.name, draft: pair.draft?.folder.name ?? 'none' },
        settings: {
          maxNewTokens: opts.maxNewTokens,
          ks: opts.k,
          repeats: opts.repeats,
          policies: opts.policy,
          drafters: opts.drafter,
          noKvCache: !opts.kvCache,
          sampling: config.sampling ?? null,
        },
        status: result.cancelled ? 'cancelled' : 'finished',
      });
      process.stderr.write(`Report: ${written.join(', ')}\n`);
    });
  }
  const reportFailedWrites = (): void => {
    if (failedWrites.length === 0) return;
    for (const f of failedWrites) process.stderr.write(`specdec: error: could not write ${f}\n`);
    process.exitCode = 2;
  };
  if (opts.json) {
    const doc = {
      config: {
        ...config,
        target: opened.target.repo ?? pair.target.folder.dir,
        draft: opened.draft?.repo ?? pair.draft?.folder.dir ?? null,
        executionProviders: { target: providers.target, draft: providers.draft },
        kvLocations: { target: providers.targetKv, draft: providers.draftKv },
        graphs: { target: providers.targetGraph, draft: providers.draftGraph },
        // the CPU provider's threads for one operator (a count: 0 asked for one per physical core)
        threads: { target: pair.target.lm.threads, draft: pair.draft?.lm.threads ?? null },
        providerChoice: {
          target: pair.target.lm.providerChoice,
          draft: pair.draft?.lm.providerChoice ?? null,
        },
      },
      cancelled: result.cancelled,
      theory,
      runs: result.runs.map((r, i) => ({
        ...rows[i]!,
        predictedSpeedup: predicted(r),
        predictedSpeedupMeasuredCost:
          r.mode === 'speculative' && r.drafter === 'model' && r.k !== null
            ? predictedMeasuredCost(theory, r.k)
            : null,
        executionProviders: { target: providers.target, draft: providers.draft },
      })),
      summary: summarizeRows(rows),
      best: bestJson(summarizeRows(rows)),
      ...(prompts.length > 1 ? { byPrompt: summarizeByPrompt(rows) } : {}),
    };
    process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
    reportFailedWrites();
    return;
  }
  printReport(opts, prompts, rows, result.cancelled, [
    `target on ${pair.target.lm.providerChoice?.summary ?? providers.target}${kvNote(pair.target.lm)}`,
    ...(pair.draft
      ? [
          `draft on ${pair.draft.lm.providerChoice?.summary ?? providers.draft}${kvNote(pair.draft.lm)}`,
        ]
      : []),
  ]);
  if (theory) {
    process.stdout.write(
      `Theory (Leviathan et al.): alpha = ${fmt(theory.alpha, 3)} (K=1 acceptance), c = ${fmt(theory.c, 3)} -> predicted best K = ${theory.bestK} (${fmt(expectedSpeedup(theory.alpha, theory.c, theory.bestK))}x)\n`,
    );
    const v = theory.verifyCost ?? {};
    if (Object.keys(v).length > 0) {
      process.stdout.write(
        `With the measured verification cost (a target pass over K+1 tokens vs one: ${Object.entries(
          v,
        )
          .map(([k, x]) => `K=${k} ${fmt(x)}x`)
          .join(', ')}) -> predicted best K = ${theory.bestKMeasuredCost}\n`,
      );
    }
  }
  reportFailedWrites();
}

/** `best` in the JSON: the best configuration and the ones within noise of it. */
function bestJson(summary: readonly SummaryRow[]) {
  const best = bestOf(summary);
  if (!best) return null;
  return {
    label: variantLabel(best.row, true),
    k: best.row.k,
    speedup: best.row.speedup!.median,
    tiedWith: best.tiedWith.map((r) => variantLabel(r, true)),
    noiseMeasured: best.noiseMeasured,
  };
}

function printReport(
  opts: SweepCliOptions,
  prompts: readonly string[],
  runs: readonly RunRow[],
  cancelled: boolean,
  providerLines: readonly string[],
): void {
  const rows = summarizeRows(runs);
  const baseline = rows.find((r) => r.mode === 'baseline');
  const strategies = comparesStrategies(rows);
  const out = (s = ''): void => void process.stdout.write(s + '\n');
  for (const line of providerLines) out(line);
  const promptLine =
    prompts.length > 1
      ? `Prompts: ${prompts.length} from ${opts.promptsFile} (medians and spread over prompts x repeats)`
      : `Prompt: ${JSON.stringify(prompts[0])}`;
  out(`${promptLine}  max new tokens: ${opts.maxNewTokens}  repeats: ${opts.repeats}`);
  if (baseline) {
    out(
      `Baseline (${opts.temperature !== 0 ? `sampled at T=${opts.temperature}` : 'greedy'}, KV cache): ${fmt(baseline.timeS.median, 4)} s, ${baseline.targetPasses.median} target passes, ${baseline.newTokens.median} new tokens`,
    );
    if (prompts.length === 1) out(`Baseline output: ${prompts[0]}${baseline.outputSample}`);
  }
  out(summaryTable(rows, strategies, prompts.length === 1 ? prompts[0]! : null).toString());
  if (prompts.length > 1) {
    out('Per prompt (median over repeats): speedup of each configuration');
    const byPrompt = summarizeByPrompt(runs);
    const spec = rows.filter((r) => r.mode === 'speculative');
    const table = new Table({
      head: ['#', 'Prompt', ...spec.map((r) => variantLabel(r, strategies)), 'Best'],
      style: { head: [], border: [] },
    });
    for (const { promptIndex, rows: pr } of byPrompt) {
      const best = bestRow(pr);
      table.push([
        String(promptIndex + 1),
        sample(prompts[promptIndex] ?? '', 40),
        ...spec.map((r) => {
          const s = pr.find((x) => x.key === r.key)?.speedup;
          return s ? `${fmt(s.median)}x` : '-';
        }),
        best ? variantLabel(best, strategies) : '-',
      ]);
    }
    out(table.toString());
  }
  const loop = loopNote(runs);
  if (loop) out(`Loop: ${loop}`);
  const best = bestOf(rows);
  if (best) out(`Best: ${bestSentence(best, true)}`);
  if (cancelled) out('Cancelled: the rows above are the runs that finished.');
}

function summaryTable(rows: readonly SummaryRow[], strategies: boolean, prompt: string | null) {
  const spreadCol = rows.some((r) => r.repeats > 1);
  const range = (s: { min: number; max: number }, d: number): string =>
    `${fmt(s.min, d)}-${fmt(s.max, d)}`;
  const table = new Table({
    head: [
      'K',
      'Time (s)',
      ...(spreadCol ? ['Time spread (s)'] : []),
      'Target Passes',
      'Avg Accepted Tokens per Verification',
      'Draft Passes',
      'Acceptance Rate',
      'Speedup',
      ...(spreadCol ? ['Speedup spread'] : []),
      'Identical',
      ...(prompt !== null ? ['Output Text Sample'] : []),
    ],
    wordWrap: true,
    style: { head: [], border: [] },
    colWidths: [
      strategies ? 30 : 19,
      10,
      ...(spreadCol ? [17] : []),
      9,
      14,
      8,
      12,
      9,
      ...(spreadCol ? [12] : []),
      11,
      ...(prompt !== null ? [50] : []),
    ],
  });
  for (const r of rows) {
    table.push([
      variantLabel(r, strategies),
      fmt(r.timeS.median, 4),
      ...(spreadCol ? [range(r.timeS, 4)] : []),
      String(r.targetPasses.median),
      fmt(r.tokensPerTargetPass?.median ?? null),
      String(r.draftPasses.median),
      fmt(r.acceptanceRate?.median ?? null),
      r.speedup ? `${fmt(r.speedup.median)}x` : '-',
      ...(spreadCol ? [r.speedup ? range(r.speedup, 2) : '-'] : []),
      r.identicalCount === r.repeats ? 'yes' : `NO (${r.identicalCount}/${r.repeats})`,
      ...(prompt !== null ? [sample(prompt + r.outputSample, 150)] : []),
    ]);
  }
  return table;
}

function sample(text: string, chars: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > chars ? `${flat.slice(0, chars)}...` : flat;
}
