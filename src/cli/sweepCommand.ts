/** `specdec sweep`: the exercise's K sweep from the command line. */
import { writeFileSync } from 'node:fs';
import { SingleBar, Presets } from 'cli-progress';
import Table from 'cli-table3';
import type { DraftPolicyName } from '../core/decoding/draftLength';
import type { DrafterKind } from '../core/decoding/drafter';
import type { ExecutionProviderChoice } from '../core/model/executionProvider';
import { loadPair, releasePair } from '../core/model/pair';
import { measureCostRatio, type CostRatio } from '../core/experiment/costRatio';
import { runRecord, runsToCsv } from '../core/experiment/report';
import { median } from '../shared/stats';
import { bestPredictedK, expectedSpeedup } from '../shared/theory';
import {
  checkSweepConfig,
  runSweep,
  summarize,
  type SweepConfig,
  type SweepRun,
  type SweepSummaryRow,
} from '../core/experiment/sweep';

export interface SweepCliOptions {
  target: string;
  draft: string;
  prompt: string;
  maxNewTokens: number;
  k: number[];
  repeats: number;
  warmup: number;
  csv?: string;
  json?: boolean;
  kvCache: boolean;
  policy: DraftPolicyName;
  pMin: number;
  drafter: DrafterKind;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  ep: ExecutionProviderChoice;
  targetEp?: ExecutionProviderChoice;
  draftEp?: ExecutionProviderChoice;
}

const fmt = (v: number | null, digits = 2): string => (v === null ? '-' : v.toFixed(digits));

export async function sweepCommand(opts: SweepCliOptions): Promise<void> {
  const pair = await loadPair(opts.target, opts.draft, {
    target: { executionProvider: opts.targetEp ?? opts.ep },
    draft: { executionProvider: opts.draftEp ?? opts.ep },
  });
  const providers = {
    target: pair.target.lm.executionProvider,
    draft: pair.draft?.lm.executionProvider ?? null,
  };
  const config: SweepConfig = {
    prompt: opts.prompt,
    maxNewTokens: opts.maxNewTokens,
    ks: opts.k,
    repeats: opts.repeats,
    warmup: opts.warmup,
    noKvCache: !opts.kvCache,
    policy: opts.policy,
    pMin: opts.pMin,
    drafter: opts.drafter,
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
  };
  try {
    checkSweepConfig(config, pair);
  } catch (err) {
    await releasePair(pair);
    throw err;
  }
  for (const m of [pair.target, pair.draft]) {
    if (m?.lm.providerFallback)
      process.stderr.write(`${m.folder.name}: ${m.lm.providerFallback}\n`);
  }
  const bar = new SingleBar(
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
  let result;
  let cost: CostRatio | null = null;
  try {
    result = await runSweep(
      pair,
      config,
      {
        onRunStart: ({ mode, k, repeat, index, total }) => {
          if (index === 0) bar.start(total, 0, { label: '', tokens: 0 });
          tokens = 0;
          const label = mode === 'speculative' ? `K=${k}` : mode;
          bar.update(index, { label: `${label} (repeat ${repeat + 1}/${opts.repeats})`, tokens });
        },
        onEvent: (ev) => {
          if (ev.type === 'step-end') {
            tokens = ev.metrics.newTokens;
            bar.update({ tokens });
          }
        },
        onRunEnd: () => bar.increment(),
      },
      controller.signal,
    );
    // The cost ratio c for Leviathan's prediction, measured on the same models and machine.
    if (pair.draft && opts.drafter === 'model' && !result.cancelled) {
      cost = await measureCostRatio(pair.target.lm, pair.draft.lm, 40, 100);
    }
  } finally {
    bar.stop();
    process.off('SIGINT', onSigint);
    await releasePair(pair);
  }
  const providerColumns = {
    targetProvider: providers.target,
    draftProvider: providers.draft ?? '',
  };
  const theory = predict(result.runs, cost);
  const predicted = (r: SweepRun): number | null =>
    theory && r.mode === 'speculative' ? expectedSpeedup(theory.alpha, theory.c, r.k!) : null;
  if (opts.csv) writeFileSync(opts.csv, runsToCsv(result.runs, providerColumns));
  if (opts.json) {
    const doc = {
      config: {
        ...config,
        target: pair.target.folder.dir,
        draft: pair.draft?.folder.dir ?? null,
        executionProviders: providers,
      },
      cancelled: result.cancelled,
      theory,
      runs: result.runs.map((r) => ({
        ...runRecord(r),
        predictedSpeedup: predicted(r),
        executionProviders: providers,
      })),
    };
    process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
    return;
  }
  printReport(opts, result.runs, result.cancelled, providers);
  if (theory) {
    process.stdout.write(
      `Theory (Leviathan et al.): alpha = ${fmt(theory.alpha, 3)} (K=1 acceptance), c = ${fmt(theory.c, 3)} -> predicted best K = ${theory.bestK} (${fmt(expectedSpeedup(theory.alpha, theory.c, theory.bestK))}x)\n`,
    );
  }
}

/** alpha from the sweep's own K=1 runs and the measured c; null without both */
function predict(runs: readonly SweepRun[], cost: CostRatio | null) {
  const rates = runs
    .filter((r) => r.mode === 'speculative' && r.k === 1 && r.metrics.acceptanceRate !== null)
    .map((r) => r.metrics.acceptanceRate!);
  if (!cost || rates.length === 0) return null;
  const alpha = median(rates);
  return { alpha, c: cost.c, bestK: bestPredictedK(alpha, cost.c) };
}

function printReport(
  opts: SweepCliOptions,
  runs: SweepRun[],
  cancelled: boolean,
  providers: { target: string; draft: string | null },
): void {
  const rows = summarize(runs);
  const baseline = rows.find((r) => r.mode === 'baseline');
  const out = (s = ''): void => void process.stdout.write(s + '\n');
  out(`Execution providers: target ${providers.target}, draft ${providers.draft}`);
  out(
    `Prompt: ${JSON.stringify(opts.prompt)}  max new tokens: ${opts.maxNewTokens}  repeats: ${opts.repeats}`,
  );
  if (baseline) {
    out(
      `Baseline (${opts.temperature !== 0 ? `sampled at T=${opts.temperature}` : 'greedy'}, KV cache): ${fmt(baseline.timeS.median, 4)} s, ${baseline.targetPasses} target passes, ${baseline.newTokens} new tokens`,
    );
    out(`Baseline output: ${opts.prompt}${baseline.outputText}`);
  }
  const spreadCol = opts.repeats > 1;
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
      'Identical',
      'Output Text Sample',
    ],
    wordWrap: true,
    style: { head: [], border: [] },
    colWidths: [19, 10, ...(spreadCol ? [17] : []), 9, 14, 8, 12, 9, 11, 50],
  });
  for (const r of rows) {
    table.push([
      label(r),
      fmt(r.timeS.median, 4),
      ...(spreadCol ? [`${fmt(r.timeS.min, 4)}-${fmt(r.timeS.max, 4)}`] : []),
      String(r.targetPasses),
      fmt(r.tokensPerTargetPass),
      String(r.draftPasses),
      fmt(r.acceptanceRate),
      r.speedup ? `${fmt(r.speedup.median)}x` : '-',
      r.identical ? 'yes' : 'NO',
      sample(opts.prompt + r.outputText),
    ]);
  }
  out(table.toString());
  const spec = rows.filter((r) => r.mode === 'speculative' && r.speedup);
  const best = spec.reduce<SweepSummaryRow | null>(
    (b, r) => (!b || r.speedup!.median > b.speedup!.median ? r : b),
    null,
  );
  if (best) out(`Best K: ${best.k} (${fmt(best.speedup!.median)}x the baseline)`);
  if (cancelled) out('Cancelled: the rows above are the runs that finished.');
}

function label(r: SweepSummaryRow): string {
  return r.mode === 'speculative' ? String(r.k) : r.mode;
}

function sample(text: string): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > 150 ? `${flat.slice(0, 150)}...` : flat;
}
