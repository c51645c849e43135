/**
 * The sweep on stdout for people: where each model ran, the prompt and the baseline, one table
 * row per configuration (and per prompt for a set), the best, which K at which alpha when
 * acceptance was controlled, and the theory's prediction.
 */
import Table from 'cli-table3';
import type { RunRow } from '../../shared/protocol';
import {
  bestOf,
  bestSentence,
  comparesStrategies,
  summarizeByPrompt,
  summarizeRows,
  variantLabel,
} from '../../results/summary';
import { loopNote } from '../../results/loops';
import {
  PAIR_NOT_MEASURED,
  sweepAcceptanceGrid,
  type AcceptanceGrid,
} from '../../results/acceptanceGrid';
import { expectedSpeedup } from '../../results/theory';
import type { OnnxCausalLM } from '../../core/model/causalLm';
import { logitWidthNote, type ModelPair } from '../../core/model/pair';
import { pairSentence } from '../../results/pairWords';
import type { Providers } from '../../lab/runRows';
import { resultTable, sampleNote, sampleViewOf } from './resultTable';
import type { SweepCliOptions } from './options';
import type { SweepOutcome } from './outcome';

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
          : '') +
      threadsNote(lm.threads) +
      q4Note(lm)
    : lm.kvLocation === 'device'
      ? ', KV cache on the device'
      : ', KV cache in host memory';

/** what a 4-bit model's MatMulNBits products ran in (matmulNBits.ts), where it has them */
const Q4_WORDS = {
  int8: ', 4-bit products with int8 activations',
  float: ', 4-bit products in float32',
  mixed: ', 4-bit products partly with int8 activations (the file sets some levels)',
  exported: '',
} as const;
const q4Note = (lm: OnnxCausalLM): string => (lm.q4Compute ? Q4_WORDS[lm.q4Compute] : '');

const threadsNote = (threads: number): string => (threads === 1 ? '' : `, ${threads} threads`);

/** the pair's families, what the prompts went through, and logit widths that differ */
function pairNotes(pair: ModelPair, providers: Providers): string[] {
  const sentence = pairSentence(providers);
  return [
    ...(sentence ? [sentence] : []),
    ...(pair.logitWidths ? [`Note: ${logitWidthNote(pair.logitWidths)}.`] : []),
  ];
}

const fmt = (v: number | null, digits = 2): string => (v === null ? '-' : v.toFixed(digits));

/** Everything the sweep prints without --json. */
export function printSummary(outcome: SweepOutcome): void {
  const { opts, prompts, opened, providers, result } = outcome;
  const { pair } = opened;
  const { theory } = result;
  const grid = sweepAcceptanceGrid(result.rows, result.costs, theory);
  printReport(opts, prompts, result.rows, result.cancelled, grid, [
    `target on ${pair.target.lm.providerChoice?.summary ?? providers.target}${kvNote(pair.target.lm)}`,
    ...(pair.draft
      ? [
          `draft on ${pair.draft.lm.providerChoice?.summary ?? providers.draft}${kvNote(pair.draft.lm)}`,
        ]
      : []),
    ...pairNotes(pair, providers),
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
}

function printReport(
  opts: SweepCliOptions,
  prompts: readonly string[],
  runs: readonly RunRow[],
  cancelled: boolean,
  grid: AcceptanceGrid | null,
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
  const samples = sampleViewOf(rows, prompts.length === 1 ? prompts[0]! : null);
  out(resultTable(rows, strategies, samples, opts.wide ?? false));
  const note = sampleNote(samples, opts.wide ?? false);
  if (note) out(note);
  if (prompts.length > 1) {
    out('Per prompt (median over repeats): speedup of each configuration');
    const byPrompt = summarizeByPrompt(runs);
    const spec = rows.filter((r) => r.mode === 'speculative');
    const table = new Table({
      head: ['#', 'Prompt', ...spec.map((r) => variantLabel(r, strategies)), 'Best'],
      style: { head: [], border: [] },
    });
    for (const { promptIndex, rows: pr } of byPrompt) {
      // the verdict over this prompt's runs alone: 'none' when no configuration beat its baseline
      const best = bestOf(pr);
      table.push([
        String(promptIndex + 1),
        sample(prompts[promptIndex] ?? '', 40),
        ...spec.map((r) => {
          const s = pr.find((x) => x.key === r.key)?.speedup;
          return s ? `${fmt(s.median)}x` : '-';
        }),
        !best
          ? '-'
          : !best.beatBaseline
            ? 'none'
            : `${variantLabel(best.row, strategies)}${best.tiedWith.length > 0 ? ' (tied)' : ''}`,
      ]);
    }
    out(table.toString());
  }
  const loop = loopNote(runs);
  if (loop) out(`Loop: ${loop}`);
  const best = bestOf(rows);
  if (best) out(`Best K: ${bestSentence(best, strategies)}`);
  if (grid) {
    // the report's "Which K at which alpha" answers, word for word (results/acceptanceGrid.ts)
    out('Which K at which alpha:');
    for (const b of grid.bestPerAlpha) out(`  ${b.sentence}`);
    out(`  ${grid.pair ? grid.pair.sentence : PAIR_NOT_MEASURED}`);
    if (grid.trees.length > 0) {
      // the report's trees at each alpha, word for word (results/treeAcceptance.ts)
      out('Token trees at each alpha:');
      for (const t of grid.trees) out(`  ${t.sentence}`);
      if (grid.treePair) out(`  ${grid.treePair.sentence}`);
    }
  }
  if (cancelled) out('Cancelled: the rows above are the runs that finished.');
}

function sample(text: string, chars: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > chars ? `${flat.slice(0, chars)}...` : flat;
}
