/**
 * The exercise's "Analysis and Discussion", answered from a sweep's own numbers: one section per
 * question (K vs target passes, K vs time, K vs tokens per verification, the trade-offs of K, the
 * best configuration vs the baseline). Every finding is computed from the rows (and the theory,
 * when the sweep has one); what cannot be measured (no baseline, one K, a cancelled sweep) is
 * said as such. Pure: no DOM, no Node, so the CLI report and the app's panel share it.
 */
import type { RunRow, Theory } from '../shared/protocol';
import { loopNote } from './loops';
import { measuresAlpha, REFERENCE_STRATEGY, strategyName } from './strategy';
import type { DraftPolicyName, DrafterKind } from '../shared/decoding';
import { median, spreadOf, type Spread } from '../shared/stats';
import {
  baselineRow,
  bestOf,
  bestRow,
  bestSentence,
  comparesStrategies,
  groupRows,
  summarizeByPrompt,
  summarizeRows,
  variantLabel,
  type SummaryRow,
} from './summary';
import {
  bestPredictedK,
  expectedSpeedup,
  expectedTokensPerPass,
  predictedMeasuredCost,
} from './theory';

export type SweepOutcome = 'running' | 'finished' | 'cancelled' | 'failed';

/** What the sweep was asked to run: lets the analysis name what a partial sweep is missing. */
export interface AnalysisSettings {
  maxNewTokens: number;
  ks: readonly number[];
  repeats: number;
  policies: readonly DraftPolicyName[];
  drafters: readonly DrafterKind[];
  /** the cache-less baseline was planned too */
  noKvCache?: boolean;
  /** null: greedy decoding */
  sampling: { temperature: number; topK: number; topP: number; seed: number } | null;
}

export interface AnalysisInput {
  rows: readonly RunRow[];
  theory: Theory | null;
  prompts: readonly string[];
  models: { target: string; draft: string };
  settings: AnalysisSettings;
  status: SweepOutcome;
}

export interface AnalysisTable {
  caption: string;
  head: string[];
  rows: string[][];
}

export type QuestionId = 'passes' | 'time' | 'accepted' | 'tradeoffs' | 'baseline';

export interface AnalysisSection {
  id: QuestionId;
  /** 1..5, the exercise's numbering */
  number: number;
  title: string;
  question: string;
  /** the short answer */
  answer: string;
  /** the numbers behind it, and why */
  points: string[];
  tables: AnalysisTable[];
}

/** One K of the analysed series: medians over its runs. */
export interface KPoint {
  k: number;
  runs: number;
  timeS: Spread;
  speedup: Spread | null;
  targetPasses: number;
  draftPasses: number;
  newTokens: number;
  tokensPerPass: number | null;
  acceptanceRate: number | null;
  /** the speedup's noise: per-repeat medians over prompts, min-max over repeats */
  speedupOverRepeats: Spread | null;
  /** accepted drafts per verification step */
  acceptedPerStep: number | null;
  draftedTokens: number;
  acceptedTokens: number;
  /** drafted - accepted, per run */
  wastedDrafts: number;
  /** share of the run's time spent in the draft model */
  draftTimeShare: number | null;
  /** milliseconds per target pass */
  targetPassMs: number | null;
  /** Leviathan's expected tokens per pass at this K (null without alpha) */
  expectedTokensPerPass: number | null;
  /** Leviathan's expected speedup at this K (null without alpha and c) */
  predictedSpeedup: number | null;
  /** the same with this K's measured verification cost t_target(K+1)/t_target(1) (null unmeasured) */
  predictedMeasuredCost: number | null;
  /** t_target(K+1)/t_target(1), measured after the sweep (null unmeasured) */
  verifyCost: number | null;
  /** share of steps whose i-th draft was accepted (median over runs) */
  acceptanceByPosition: number[] | null;
  identical: number;
}

export interface BaselineFacts {
  runs: number;
  timeS: Spread;
  targetPasses: number;
  newTokens: number;
  targetPassMs: number | null;
}

export interface BestFacts {
  label: string;
  key: string;
  k: number;
  drafter: DrafterKind | null;
  policy: DraftPolicyName | null;
  runs: number;
  timeS: Spread;
  speedup: Spread;
  targetPasses: number;
  identical: number;
  /** the configurations within noise of it (labels) */
  tiedWith: string[];
  speedupOverRepeats: Spread | null;
}

export interface Analysis {
  title: string;
  /** the set-up, one line each */
  context: string[];
  /** what limits the answers: a partial sweep, no baseline, no theory, sampling */
  notes: string[];
  decoding: 'greedy' | 'sampled';
  status: SweepOutcome;
  runsDone: number;
  runsPlanned: number;
  /** configurations with fewer runs than planned, e.g. "K=8 (0 of 3 runs)" */
  missing: string[];
  /** the drafter / policy the K questions are answered for */
  seriesLabel: string;
  series: KPoint[];
  baseline: BaselineFacts | null;
  noCacheBaseline: BaselineFacts | null;
  /** the fastest K of the series (highest median speedup; lowest time without a baseline) */
  measuredBestK: number | null;
  /** the best configuration in words, only beyond noise ("K=2 and K=3 are within noise ...") */
  bestInWords: string | null;
  /** the best configuration of the whole sweep (the results table's best row) */
  best: BestFacts | null;
  theory: Theory | null;
  /** per-token acceptance used for the expectations: the theory's, else the K=1 runs' */
  alpha: number | null;
  predictedBestK: number | null;
  summary: AnalysisTable;
  sections: AnalysisSection[];
}

// ----- formatting -----

const sec = (v: number): string => `${v.toFixed(v < 10 ? 3 : 2)} s`;
/** a time as `sec` shows it: sentences compare what their tables show, not hidden digits */
const shownS = (v: number): number => Number(v.toFixed(v < 10 ? 3 : 2));
const times = (v: number): string => `${v.toFixed(2)}x`;
const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;
const whole = (v: number): string => `${Math.round(v * 100)}%`;
const cnt = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(1));
const f2 = (v: number): string => v.toFixed(2);
const f3 = (v: number): string => v.toFixed(3);
const ms = (v: number): string => `${v.toFixed(v < 10 ? 2 : 1)} ms`;
const kl = (k: number): string => `K=${k}`;

function spreadText(s: Spread, fmt: (v: number) => string): string {
  return s.n > 1 && s.min !== s.max
    ? `${fmt(s.median)} (${fmt(s.min)} to ${fmt(s.max)})`
    : fmt(s.median);
}

/** "a, b and c" */
function list(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  return `${n}${teen ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th')}`;
}

function medianOf(rows: readonly RunRow[], pick: (r: RunRow) => number | null): number | null {
  return spreadOf(rows.map(pick))?.median ?? null;
}

/**
 * Direction of a sequence, in words that hold for every step: rose / fell at every step; a
 * plateau (rose or fell at every step up to `at`, then the same from `at` on); loosely (never the
 * other way, but equal at some steps in between); flat; or the turning point.
 */
type Trend =
  | { kind: 'rose' | 'fell' | 'flat' | 'mixed' }
  | { kind: 'plateau'; direction: 'rose' | 'fell'; at: number }
  | { kind: 'loosely'; direction: 'rose' | 'fell' }
  | { kind: 'peak' | 'dip'; at: number };

const rising = (v: readonly number[]): boolean => v.every((x, i) => i === 0 || x >= v[i - 1]!);
const falling = (v: readonly number[]): boolean => v.every((x, i) => i === 0 || x <= v[i - 1]!);

function trendOf(values: readonly number[]): Trend {
  const steps = values.slice(1).map((v, i) => Math.sign(v - values[i]!));
  if (steps.every((d) => d === 0)) return { kind: 'flat' };
  if (steps.every((d) => d > 0)) return { kind: 'rose' };
  if (steps.every((d) => d < 0)) return { kind: 'fell' };
  const up = steps.every((d) => d >= 0);
  if (up || steps.every((d) => d <= 0)) {
    const direction = up ? 'rose' : 'fell';
    const lastMove = steps.findLastIndex((d) => d !== 0);
    return steps.slice(0, lastMove + 1).every((d) => d !== 0)
      ? { kind: 'plateau', direction, at: lastMove + 1 }
      : { kind: 'loosely', direction };
  }
  const hi = values.indexOf(Math.max(...values));
  const lo = values.indexOf(Math.min(...values));
  if (rising(values.slice(0, hi + 1)) && falling(values.slice(hi))) return { kind: 'peak', at: hi };
  if (falling(values.slice(0, lo + 1)) && rising(values.slice(lo))) return { kind: 'dip', at: lo };
  return { kind: 'mixed' };
}

// ----- facts from the rows -----

function passMs(rows: readonly RunRow[]): number | null {
  const v = medianOf(rows, (r) =>
    r.targetPasses > 0 && r.targetRunS > 0 ? (r.targetRunS / r.targetPasses) * 1000 : null,
  );
  return v;
}

function baselineFacts(
  row: SummaryRow | undefined,
  group: readonly RunRow[],
): BaselineFacts | null {
  if (!row) return null;
  return {
    runs: row.repeats,
    timeS: row.timeS,
    targetPasses: row.targetPasses.median,
    newTokens: row.newTokens.median,
    targetPassMs: passMs(group),
  };
}

function positionMedians(rows: readonly RunRow[]): number[] | null {
  const lists = rows.map((r) => r.acceptanceByPosition ?? []).filter((l) => l.length > 0);
  if (lists.length === 0) return null;
  const len = Math.max(...lists.map((l) => l.length));
  const out: number[] = [];
  for (let i = 0; i < len; i++) {
    const at = lists.map((l) => l[i]).filter((v): v is number => v !== undefined);
    out.push(median(at));
  }
  return out;
}

function kPoint(
  row: SummaryRow,
  group: readonly RunRow[],
  alpha: number | null,
  c: number | null,
  theory: Theory | null,
): KPoint {
  const k = row.k!;
  return {
    k,
    runs: row.repeats,
    timeS: row.timeS,
    speedup: row.speedup,
    speedupOverRepeats: row.speedupOverRepeats,
    targetPasses: row.targetPasses.median,
    draftPasses: row.draftPasses.median,
    newTokens: row.newTokens.median,
    tokensPerPass: row.tokensPerTargetPass?.median ?? null,
    acceptanceRate: row.acceptanceRate?.median ?? null,
    acceptedPerStep: medianOf(group, (r) =>
      r.verificationSteps > 0 ? r.acceptedTokens / r.verificationSteps : null,
    ),
    draftedTokens: medianOf(group, (r) => r.draftedTokens) ?? 0,
    acceptedTokens: medianOf(group, (r) => r.acceptedTokens) ?? 0,
    wastedDrafts: medianOf(group, (r) => r.draftedTokens - r.acceptedTokens) ?? 0,
    draftTimeShare: medianOf(group, (r) => (r.timeS > 0 ? r.draftRunS / r.timeS : null)),
    targetPassMs: passMs(group),
    expectedTokensPerPass: alpha === null ? null : expectedTokensPerPass(alpha, k),
    predictedSpeedup: alpha === null || c === null ? null : expectedSpeedup(alpha, c, k),
    predictedMeasuredCost: predictedMeasuredCost(theory, k),
    verifyCost: theory?.verifyCost?.[String(k)] ?? null,
    acceptanceByPosition: positionMedians(group),
    identical: row.identicalCount,
  };
}

/** The configurations the settings plan, with the runs each should have. */
function plannedConfigs(
  settings: AnalysisSettings,
): Array<Pick<RunRow, 'mode' | 'k' | 'drafter' | 'policy'>> {
  const none = { k: null, drafter: null, policy: null };
  const out: Array<Pick<RunRow, 'mode' | 'k' | 'drafter' | 'policy'>> = [
    { mode: 'baseline', ...none },
    ...(settings.noKvCache ? [{ mode: 'baseline-no-cache' as const, ...none }] : []),
  ];
  for (const drafter of settings.drafters)
    for (const policy of settings.policies)
      for (const k of settings.ks) out.push({ mode: 'speculative', k, drafter, policy });
  return out;
}

const planKey = (r: Pick<RunRow, 'mode' | 'k' | 'drafter' | 'policy'>): string =>
  r.mode === 'speculative' ? `spec:${strategyName(r)}:${r.k}` : r.mode;

// ----- the analysis -----

export function analyzeSweep(input: AnalysisInput): Analysis {
  const { rows, theory, prompts, settings, status } = input;
  const summary = summarizeRows(rows);
  const groups = groupRows(rows);
  const strategies = comparesStrategies(summary);
  const label = (r: Pick<RunRow, 'mode' | 'k' | 'drafter' | 'policy'>): string =>
    r.mode === 'baseline'
      ? 'Baseline'
      : r.mode === 'baseline-no-cache'
        ? 'Baseline (no KV cache)'
        : variantLabel(r, strategies);
  const sampled = settings.sampling !== null;
  /** repeats measured (each covers every prompt): what noise is judged over */
  const repeats = new Set(rows.map((r) => r.repeat)).size;
  /** runs behind a configuration's median: repeats x prompts */
  const runsPerConfig = Math.max(0, ...summary.map((r) => r.repeats));

  // Completeness: what was planned, what finished.
  const planned = plannedConfigs(settings);
  const perConfig = settings.repeats * prompts.length;
  const done = new Map<string, number>();
  for (const r of rows) done.set(planKey(r), (done.get(planKey(r)) ?? 0) + 1);
  const plannedStrategies = settings.drafters.length * settings.policies.length > 1;
  const missing = planned
    .filter((p) => (done.get(planKey(p)) ?? 0) < perConfig)
    .map((p) => {
      const name = p.mode === 'speculative' ? variantLabel(p, plannedStrategies) : label(p);
      return `${name} (${done.get(planKey(p)) ?? 0} of ${perConfig} run${perConfig === 1 ? '' : 's'})`;
    });
  const runsPlanned = planned.length * perConfig;

  // Baselines.
  const baseRow = baselineRow(summary) ?? undefined;
  const baseline = baselineFacts(baseRow, baseRow ? (groups.get(baseRow.key) ?? []) : []);
  const noCacheRow = summary.find((r) => r.mode === 'baseline-no-cache');
  const noCacheBaseline = baselineFacts(
    noCacheRow,
    noCacheRow ? (groups.get(noCacheRow.key) ?? []) : [],
  );

  // The series the K questions are answered on: the draft model with fixed K when the sweep has
  // it, else the drafter / policy of the best configuration.
  const specRows = summary.filter((r) => r.mode === 'speculative' && r.k !== null);
  const overallBest = bestRow(summary);
  const overallChoice = bestOf(summary);
  const seriesStrategy =
    specRows.find((r) => strategyName(r) === REFERENCE_STRATEGY) !== undefined
      ? REFERENCE_STRATEGY
      : overallBest
        ? strategyName(overallBest)
        : specRows[0]
          ? strategyName(specRows[0])
          : REFERENCE_STRATEGY;
  const seriesRows = specRows
    .filter((r) => strategyName(r) === seriesStrategy)
    .sort((a, b) => a.k! - b.k!);
  const theoryApplies = seriesStrategy === REFERENCE_STRATEGY;

  // alpha: the theory's, else the median acceptance of the K=1 model-drafted runs.
  const k1Model = rows.filter(measuresAlpha);
  const k1Alpha = medianOf(k1Model, (r) => r.acceptanceRate);
  const alpha = theory?.alpha ?? k1Alpha;
  const seriesAlpha = theoryApplies ? alpha : null;
  const seriesC = theoryApplies ? (theory?.c ?? null) : null;
  const series = seriesRows.map((r) =>
    kPoint(r, groups.get(r.key) ?? [], seriesAlpha, seriesC, theoryApplies ? theory : null),
  );

  const seriesBest = bestRow(seriesRows);
  const seriesTies = (bestOf(seriesRows)?.tiedWith ?? []).flatMap((r) =>
    r.k === null ? [] : [r.k],
  );
  const fastest = series.length
    ? series.reduce((a, b) => (b.timeS.median < a.timeS.median ? b : a))
    : null;
  const measuredBestK = seriesBest?.k ?? fastest?.k ?? null;
  const bestPoint = series.find((p) => p.k === measuredBestK) ?? null;

  const best: BestFacts | null =
    overallBest && overallBest.speedup && overallBest.k !== null
      ? {
          label: variantLabel(overallBest, strategies),
          key: overallBest.key,
          k: overallBest.k,
          drafter: overallBest.drafter,
          policy: overallBest.policy,
          runs: overallBest.repeats,
          timeS: overallBest.timeS,
          speedup: overallBest.speedup,
          targetPasses: overallBest.targetPasses.median,
          identical: overallBest.identicalCount,
          tiedWith: (bestOf(summary)?.tiedWith ?? []).map((r) => variantLabel(r, strategies)),
          speedupOverRepeats: overallBest.speedupOverRepeats,
        }
      : null;

  // ----- context and notes -----
  const context: string[] = [
    `Target model: ${input.models.target}; draft model: ${input.models.draft}.`,
    prompts.length === 1
      ? `Prompt: "${prompts[0]}".`
      : `${prompts.length} prompts; medians over prompts and repeats.`,
    `Max new tokens ${settings.maxNewTokens}; K values ${settings.ks.join(', ')}; ${settings.repeats} repeat${settings.repeats === 1 ? '' : 's'}; ${
      sampled
        ? `sampled (temperature ${settings.sampling!.temperature}, top-k ${settings.sampling!.topK}, top-p ${settings.sampling!.topP}, seed ${settings.sampling!.seed})`
        : 'greedy decoding'
    }.`,
  ];
  if (plannedStrategies)
    context.push(
      `Drafters ${settings.drafters.join(', ')}; policies ${settings.policies.join(', ')}.`,
    );
  if (baseline && baseline.newTokens < settings.maxNewTokens)
    context.push(
      `The baseline stopped after ${cnt(baseline.newTokens)} new tokens (end of text or the context limit), before ${settings.maxNewTokens}.`,
    );

  const notes: string[] = [];
  const doneText = `${rows.length} of ${runsPlanned} planned runs`;
  if (status === 'running')
    notes.push(`The sweep is still running (${doneText} finished): these answers will change.`);
  else if (status === 'cancelled')
    notes.push(
      `The sweep was cancelled after ${doneText}; the answers use the finished runs only.`,
    );
  else if (status === 'failed')
    notes.push(
      `The sweep stopped early (an error or the engine died) after ${doneText}; the answers use the finished runs only.`,
    );
  if (missing.length > 0 && status !== 'running') notes.push(`Missing runs: ${list(missing)}.`);
  if (!baseline)
    notes.push(
      'No baseline run finished, so there is no speedup and no pass count to compare with.',
    );
  if (specRows.length === 0) notes.push('No speculative run finished.');
  else if (series.length === 1)
    notes.push(`Only ${kl(series[0]!.k)} was measured, so trends over K cannot be seen.`);
  if (strategies)
    notes.push(
      `The sweep compares drafters/policies; questions 1 to 4 are answered for ${seriesStrategy}${
        seriesStrategy === REFERENCE_STRATEGY ? ' (the draft model with a fixed K)' : ''
      }, question 5 covers all of them.`,
    );
  if (!theory) {
    const why =
      k1Model.length === 0
        ? 'the sweep has no finished K=1 run drafted by the model, which alpha is measured from'
        : status !== 'finished'
          ? 'the cost ratio c is only measured after a sweep finishes'
          : 'the cost ratio c was not measured';
    notes.push(
      `No Leviathan prediction for this sweep: ${why}.${
        k1Alpha !== null
          ? ` Expected tokens per pass still use alpha = ${f3(k1Alpha)} from the K=1 runs.`
          : ''
      }`,
    );
  }
  const loop = loopNote(rows);
  if (loop) notes.push(loop);
  if (sampled)
    notes.push(
      "Decoding was sampled: outputs are not expected to equal the baseline's; speculative sampling keeps the target's output distribution instead.",
    );

  const predictedBestK = theory && theoryApplies ? theory.bestK : null;

  const ctx: SectionContext = {
    series,
    baseline,
    noCacheBaseline,
    bestPoint,
    measuredBestK,
    alpha: seriesAlpha,
    alphaFromTheory: theory !== null,
    theory: theoryApplies ? theory : null,
    predictedBestK,
    repeats,
    sampled,
    seriesStrategy,
    strategies,
    seriesBestBySpeedup: seriesBest !== null,
    prompts: prompts.length,
    tiedKs: seriesTies,
    looping: loop !== null,
  };

  const sections: AnalysisSection[] = [
    passesSection(ctx),
    timeSection(ctx),
    acceptedSection(ctx),
    tradeoffSection(ctx),
    baselineSection(ctx, {
      rows,
      summary,
      best,
      prompts,
      label,
      strategies,
    }),
  ];

  return {
    title: 'Speculative decoding: analysis and discussion',
    context,
    notes,
    decoding: sampled ? 'sampled' : 'greedy',
    status,
    runsDone: rows.length,
    runsPlanned,
    missing,
    seriesLabel: seriesStrategy,
    series,
    baseline,
    noCacheBaseline,
    measuredBestK,
    best,
    bestInWords: overallChoice ? bestSentence(overallChoice, strategies) : null,
    theory,
    alpha,
    predictedBestK,
    summary: summaryTable(summary, groups, label, runsPerConfig > 1),
    sections,
  };
}

interface SectionContext {
  series: KPoint[];
  baseline: BaselineFacts | null;
  noCacheBaseline: BaselineFacts | null;
  bestPoint: KPoint | null;
  measuredBestK: number | null;
  alpha: number | null;
  alphaFromTheory: boolean;
  theory: Theory | null;
  predictedBestK: number | null;
  repeats: number;
  sampled: boolean;
  seriesStrategy: string;
  strategies: boolean;
  /** the best K was picked by speedup (there is a baseline), not by time alone */
  seriesBestBySpeedup: boolean;
  /** prompts in the sweep */
  prompts: number;
  /** the Ks whose speedup over repeats overlaps the best's: not told apart from it */
  tiedKs: number[];
  /** some run's text falls into a repeating cycle (loops.ts) */
  looping: boolean;
}

function summaryTable(
  summary: readonly SummaryRow[],
  groups: Map<string, RunRow[]>,
  label: (r: SummaryRow) => string,
  spread: boolean,
): AnalysisTable {
  const sp = (s: Spread | null, fmt: (v: number) => string): string =>
    s === null ? '-' : spread ? spreadText(s, fmt) : fmt(s.median);
  return {
    caption: `Results per configuration (medians${spread ? ', min to max in brackets' : ''})`,
    head: [
      'Configuration',
      'Runs',
      'Time (s)',
      'Speedup',
      'Target passes',
      'Tokens per pass',
      'Acceptance',
      'Draft passes',
      'Wasted drafts',
      'Identical',
    ],
    rows: summary.map((r) => {
      const group = groups.get(r.key) ?? [];
      const wasted = medianOf(group, (x) => x.draftedTokens - x.acceptedTokens);
      return [
        label(r),
        String(r.repeats),
        sp(r.timeS, f3),
        sp(r.speedup, times),
        cnt(r.targetPasses.median),
        r.tokensPerTargetPass ? f2(r.tokensPerTargetPass.median) : '-',
        r.acceptanceRate ? pct(r.acceptanceRate.median) : '-',
        cnt(r.draftPasses.median),
        r.mode === 'speculative' && wasted !== null ? cnt(wasted) : '-',
        r.mode === 'speculative' ? `${r.identicalCount}/${r.repeats}` : '-',
      ];
    }),
  };
}

// ----- 1. target passes -----

function passesSection(c: SectionContext): AnalysisSection {
  const base = {
    id: 'passes' as const,
    number: 1,
    title: 'Impact of K on target model passes',
    question:
      'How did K change the number of forward passes of the target model, compared with the baseline?',
  };
  const { series, baseline } = c;
  if (series.length === 0) {
    return {
      ...base,
      answer: baseline
        ? `No speculative run finished; the baseline made ${cnt(baseline.targetPasses)} target passes for ${cnt(baseline.newTokens)} new tokens.`
        : 'No run finished, so there are no pass counts to compare.',
      points: [],
      tables: [],
    };
  }
  const byPasses = [...series].sort((a, b) => a.targetPasses - b.targetPasses);
  const fewest = byPasses[0]!;
  const most = byPasses.at(-1)!;
  const points: string[] = [];
  let answer: string;
  if (baseline) {
    const cut = (p: KPoint): number => 1 - p.targetPasses / baseline.targetPasses;
    const change = (p: KPoint): string =>
      cut(p) >= 0 ? `${whole(cut(p))} fewer` : `${whole(-cut(p))} more`;
    if (fewest.targetPasses >= baseline.targetPasses) {
      answer =
        most.targetPasses === baseline.targetPasses
          ? `Speculative decoding did not reduce the target passes: ${series.length === 1 ? kl(fewest.k) : 'every K'} needed ${cnt(fewest.targetPasses)}, the same as the baseline.`
          : `Speculative decoding did not reduce the target passes: the baseline needed ${cnt(baseline.targetPasses)}, the speculative runs ${cnt(fewest.targetPasses)} to ${cnt(most.targetPasses)}.`;
    } else if (series.length === 1) {
      answer = `With ${kl(fewest.k)} the target made ${cnt(fewest.targetPasses)} passes instead of the baseline's ${cnt(baseline.targetPasses)} (${change(fewest)}).`;
    } else if (fewest.targetPasses === most.targetPasses) {
      answer = `Speculative decoding cut the target passes from the baseline's ${cnt(baseline.targetPasses)} to ${cnt(fewest.targetPasses)} (${change(fewest)}) at every K.`;
    } else {
      answer = `Speculative decoding cut the target passes from the baseline's ${cnt(baseline.targetPasses)} to between ${cnt(fewest.targetPasses)} (${kl(fewest.k)}, ${change(fewest)}) and ${cnt(most.targetPasses)} (${kl(most.k)}, ${change(most)}).`;
    }
    const notFewer = series.filter((p) => p.targetPasses >= baseline.targetPasses);
    if (notFewer.length > 0 && notFewer.length < series.length)
      points.push(
        `${list(notFewer.map((p) => kl(p.k)))} needed as many passes as the baseline or more.`,
      );
    points.push(
      baseline.targetPasses === baseline.newTokens
        ? `The baseline makes one target pass per new token (${cnt(baseline.newTokens)} tokens, ${cnt(baseline.targetPasses)} passes).`
        : `The baseline made ${cnt(baseline.targetPasses)} target passes for ${cnt(baseline.newTokens)} new tokens (${f2(baseline.targetPasses / Math.max(1, baseline.newTokens))} per token).`,
    );
  } else {
    answer = `Without a baseline run, only the speculative counts are known: ${list(series.map((p) => `${kl(p.k)} ${cnt(p.targetPasses)}`))} target passes.`;
  }
  if (fewest.tokensPerPass !== null)
    points.push(
      `Why: each target pass checks all K drafts at once and keeps the accepted ones plus one token of its own (a correction or a bonus). At ${kl(fewest.k)} a pass yielded ${f2(fewest.tokensPerPass)} tokens, so ${cnt(fewest.newTokens)} new tokens took about ${cnt(fewest.newTokens)} / ${f2(fewest.tokensPerPass)} = ${(fewest.newTokens / fewest.tokensPerPass).toFixed(1)} passes (measured: ${cnt(fewest.targetPasses)}).`,
    );
  if (series.length > 1) {
    const trend = trendOf(series.map((p) => p.targetPasses));
    const first = series[0]!;
    const last = series.at(-1)!;
    if (trend.kind === 'fell')
      points.push(
        `Passes fell with every larger K, from ${cnt(first.targetPasses)} at ${kl(first.k)} to ${cnt(last.targetPasses)} at ${kl(last.k)}.`,
      );
    else if (trend.kind === 'plateau' && trend.direction === 'fell') {
      const settled = series[trend.at]!;
      points.push(
        `Passes fell from ${cnt(first.targetPasses)} at ${kl(first.k)} to ${cnt(settled.targetPasses)} at ${kl(settled.k)}, then stayed at ${cnt(settled.targetPasses)} up to ${kl(last.k)}: drafting more than ${settled.k} tokens bought no fewer passes.`,
      );
    } else if (trend.kind === 'loosely' && trend.direction === 'fell') {
      const ties = series
        .slice(1)
        .map((p, i) => [series[i]!, p] as const)
        .filter(([a, b]) => a.targetPasses === b.targetPasses)
        .map(([a, b]) => `${kl(a.k)} and ${kl(b.k)} (${cnt(b.targetPasses)})`);
      points.push(
        `Passes fell overall, from ${cnt(first.targetPasses)} at ${kl(first.k)} to ${cnt(last.targetPasses)} at ${kl(last.k)}, but not at every step: the same at ${list(ties)}.`,
      );
    } else if (trend.kind === 'flat')
      points.push(`Passes were the same (${cnt(first.targetPasses)}) at every K.`);
    else {
      const rises = series
        .slice(1)
        .map((p, i) => [series[i]!, p] as const)
        .filter(([a, b]) => b.targetPasses > a.targetPasses)
        .map(
          ([a, b]) =>
            `${kl(b.k)} needed ${cnt(b.targetPasses)} vs ${cnt(a.targetPasses)} at ${kl(a.k)} (${b.tokensPerPass !== null && a.tokensPerPass !== null ? `${f2(b.tokensPerPass)} vs ${f2(a.tokensPerPass)} tokens per pass` : 'fewer tokens per pass'})`,
        );
      points.push(`Passes did not fall at every step: ${list(rises)}.`);
    }
    if (last.tokensPerPass !== null)
      points.push(
        `A pass can yield at most K + 1 tokens; at ${kl(last.k)} that is ${last.k + 1}, but it yielded ${f2(last.tokensPerPass)} (${whole(last.tokensPerPass / (last.k + 1))} of the ceiling), because a step ends at the first rejected draft. The fewest passes possible would be ${cnt(last.newTokens)} / ${last.k + 1} = ${(last.newTokens / (last.k + 1)).toFixed(1)}.`,
      );
  }
  if (c.noCacheBaseline && baseline)
    points.push(
      c.noCacheBaseline.targetPasses === baseline.targetPasses
        ? `The baseline without a KV cache made the same ${cnt(baseline.targetPasses)} passes; it is slower per pass, not in passes.`
        : `The baseline without a KV cache made ${cnt(c.noCacheBaseline.targetPasses)} passes (with the cache: ${cnt(baseline.targetPasses)}).`,
    );
  return {
    ...base,
    answer,
    points,
    tables: [
      {
        caption: 'Target passes per K',
        head: [
          'K',
          'Target passes',
          ...(baseline ? ['vs baseline'] : []),
          'Tokens per pass',
          'New tokens / tokens per pass',
        ],
        rows: series.map((p) => [
          String(p.k),
          cnt(p.targetPasses),
          ...(baseline ? [`${whole(1 - p.targetPasses / baseline.targetPasses)} fewer`] : []),
          p.tokensPerPass === null ? '-' : f2(p.tokensPerPass),
          p.tokensPerPass === null ? '-' : (p.newTokens / p.tokensPerPass).toFixed(1),
        ]),
      },
    ],
  };
}

// ----- 2. wall-clock time -----

function timeSection(c: SectionContext): AnalysisSection {
  const base = {
    id: 'time' as const,
    number: 2,
    title: 'Impact of K on wall-clock time',
    question:
      'How did K change the generation time? Was there an optimal K for this pair, and why does time rise or fall?',
  };
  const { series, baseline, bestPoint } = c;
  if (series.length === 0 || bestPoint === null) {
    return {
      ...base,
      answer: baseline
        ? `No speculative run finished; the baseline took ${sec(baseline.timeS.median)}.`
        : 'No run finished, so there are no times to compare.',
      points: [],
      tables: [],
    };
  }
  const points: string[] = [];
  const b = bestPoint;
  const tied = [b, ...c.tiedKs.map((k) => series.find((p) => p.k === k)!)];
  let answer =
    c.tiedKs.length > 0 && baseline
      ? `No single fastest K: ${list(tied.map((p) => kl(p.k)))} are within noise (${list(tied.map((p) => times(p.speedup!.median)))} the baseline's ${sec(baseline.timeS.median)}; their speedups over ${c.repeats} repeats overlap). ${kl(b.k)} had the best median.`
      : baseline && b.speedup
        ? `The fastest K was ${kl(b.k)} at ${sec(b.timeS.median)}, ${times(b.speedup.median)} the baseline's ${sec(baseline.timeS.median)}.`
        : `The fastest K was ${kl(b.k)} at ${sec(b.timeS.median)} (no baseline to compare with).`;
  if (baseline && b.speedup && b.speedup.median < 1) {
    const n = b.speedupOverRepeats;
    answer +=
      n && n.n > 1 && n.max >= 1
        ? ` No K was faster than the baseline beyond noise: ${kl(b.k)}'s speedup over ${n.n} repeats ranged from ${times(n.min)} to ${times(n.max)}.`
        : ` No K beat the baseline: speculative decoding cost more than it saved here.`;
  }

  if (series.length > 1) {
    const above = series.filter((p) => p.k > b.k);
    const below = series.filter((p) => p.k < b.k);
    if (above.length === 0) {
      points.push(
        `${kl(b.k)} is the largest K tested, so this sweep does not show where time starts to rise; a larger K might be faster still.`,
      );
    } else {
      const last = above.at(-1)!;
      const rising = trendOf([b, ...above].map((p) => shownS(p.timeS.median))).kind === 'rose';
      // The best K has the best median speedup (each run against its own repeat's baseline);
      // a larger K can still have a lower median time when repeats differ: say so, not "faster".
      const quicker = above.filter((p) => shownS(p.timeS.median) < shownS(b.timeS.median));
      points.push(
        quicker.length > 0
          ? `Past ${kl(b.k)} no larger K had a better median speedup, though ${list(quicker.map((p) => `${kl(p.k)}'s median time (${sec(p.timeS.median)})`))} ${quicker.length > 1 ? 'were' : 'was'} below ${kl(b.k)}'s ${sec(b.timeS.median)}: each speedup is against the baseline of its own repeat and prompt, so the two medians can disagree by the noise between repeats.`
          : `Past ${kl(b.k)} ${rising ? 'time rose with every larger K' : 'no larger K was faster'}: ${list(above.map((p) => `${kl(p.k)} ${sec(p.timeS.median)}`))}${shownS(last.timeS.median) > shownS(b.timeS.median) ? ` (${kl(last.k)} is ${whole(last.timeS.median / b.timeS.median - 1)} slower than ${kl(b.k)})` : ''}.`,
      );
      if (below.length > 0)
        points.push(
          `Below it, ${list(below.map((p) => `${kl(p.k)} took ${sec(p.timeS.median)}`))}${
            c.tiedKs.length > 0 || c.repeats <= 1
              ? '.'
              : `: so ${kl(b.k)} is this sweep's optimum for this pair, clear of the others over ${c.repeats} repeats.`
          }`,
        );
      else
        points.push(
          `${kl(b.k)} is the smallest K tested: here drafting fewer tokens per step was faster.`,
        );
    }
    // Is the optimum clear of the runner-up?
    const others = series.filter((p) => p !== b);
    const runnerUp = others.reduce((x, y) => (y.timeS.median < x.timeS.median ? y : x));
    const gap = runnerUp.timeS.median / b.timeS.median - 1;
    // (within noise is said in the answer)
    if (c.tiedKs.length === 0) {
      if (
        c.repeats > 1 &&
        c.prompts > 1 &&
        runnerUp.timeS.min <= b.timeS.max &&
        c.seriesBestBySpeedup
      )
        points.push(
          `Over all runs the times of ${kl(runnerUp.k)} and ${kl(b.k)} overlap because the ${c.prompts} prompts differ in length and ease, but each repeat's median speedup over the prompts kept ${kl(b.k)} ahead.`,
        );
      else if (c.repeats > 1 && runnerUp.timeS.min <= b.timeS.max && c.seriesBestBySpeedup)
        points.push(
          `Their times overlap (${kl(runnerUp.k)} ${sec(runnerUp.timeS.min)} to ${sec(runnerUp.timeS.max)}, ${kl(b.k)} ${sec(b.timeS.min)} to ${sec(b.timeS.max)}) because the machine's speed drifted between repeats, but against the baseline of the same repeat ${kl(b.k)} was the faster every time.`,
        );
      else if (c.repeats > 1 && runnerUp.timeS.min <= b.timeS.max)
        points.push(
          `The runner-up ${kl(runnerUp.k)} (${sec(runnerUp.timeS.min)} to ${sec(runnerUp.timeS.max)} over its runs) overlaps ${kl(b.k)} (${sec(b.timeS.min)} to ${sec(b.timeS.max)}), so the two are not clearly separated.`,
        );
      else if (c.repeats <= 1)
        points.push(
          gap < 0.05
            ? `The runner-up ${kl(runnerUp.k)} was only ${pct(gap)} slower, within what one repeat per K can resolve; repeats would tell them apart.`
            : `Each K ran once${c.prompts > 1 ? ' per prompt' : ''}, so nothing measured how much these times vary between runs; with 3 or more repeats the fastest K is named only when it is clear of the runner-up.`,
        );
    }
  }

  // Why: target passes saved vs draft work added.
  if (baseline?.targetPassMs && b.targetPassMs) {
    const last = series.at(-1)!;
    points.push(
      `A target pass took ${ms(baseline.targetPassMs)} in the baseline (one token) and ${ms(b.targetPassMs)} at ${kl(b.k)} (checking ${b.k + 1} tokens at once)${last !== b && last.targetPassMs ? `, ${ms(last.targetPassMs)} at ${kl(last.k)}` : ''}: ${
        b.targetPassMs / baseline.targetPassMs < 1.5
          ? `checking ${b.k} drafts cost ${f2(b.targetPassMs / baseline.targetPassMs)} one-token passes, so every accepted draft saves most of a pass.`
          : `checking ${b.k} drafts cost ${f2(b.targetPassMs / baseline.targetPassMs)} one-token passes, which eats into what accepted drafts save.`
      }`,
    );
  }
  const shares = series.filter((p) => p.draftTimeShare !== null && p.draftTimeShare > 0);
  if (shares.length > 0) {
    const first = shares[0]!;
    const last = shares.at(-1)!;
    points.push(
      first === last
        ? `Drafting took ${whole(first.draftTimeShare!)} of the time at ${kl(first.k)} (${cnt(first.draftPasses)} draft passes).`
        : `Drafting took ${whole(first.draftTimeShare!)} of the time at ${kl(first.k)} (${cnt(first.draftPasses)} draft passes) and ${whole(last.draftTimeShare!)} at ${kl(last.k)} (${cnt(last.draftPasses)} draft passes): every extra K adds a draft pass per step, accepted or not.`,
    );
  }
  if (c.theory)
    points.push(
      `The measured cost ratio c = ${f3(c.theory.c)} (a draft pass over a target pass) means K drafts cost ${series
        .map((p) => `${f2(p.k * c.theory!.c)} at ${kl(p.k)}`)
        .slice(0, 3)
        .join(', ')}${series.length > 3 ? ', ...' : ''} target passes.`,
    );
  const acc = series.filter((p) => p.acceptanceRate !== null);
  if (acc.length > 1) {
    const first = acc[0]!;
    const last = acc.at(-1)!;
    points.push(
      acc.every((p) => p.acceptanceRate === 0)
        ? `No draft was accepted at any K: every draft pass was wasted work.`
        : `Acceptance went from ${pct(first.acceptanceRate!)} at ${kl(first.k)} to ${pct(last.acceptanceRate!)} at ${kl(last.k)}${last.acceptanceRate! < first.acceptanceRate! ? ': later drafts in a step are accepted less often, so a long K adds draft work that is mostly discarded' : ''}.`,
    );
  }
  if (series.length > 1 && baseline) {
    const after = series.filter((p) => p.k > b.k);
    const last = after.at(-1);
    if (last && last.timeS.median > b.timeS.median)
      points.push(
        last.targetPasses < b.targetPasses
          ? `So past ${kl(b.k)} the passes saved (${cnt(b.targetPasses)} to ${cnt(last.targetPasses)} target passes at ${kl(last.k)}) no longer paid for the draft work added (${cnt(b.draftPasses)} to ${cnt(last.draftPasses)} draft passes).`
          : `So past ${kl(b.k)} a larger K saved no target passes (${cnt(b.targetPasses)} at ${kl(b.k)}, ${cnt(last.targetPasses)} at ${kl(last.k)}) but added draft work (${cnt(b.draftPasses)} to ${cnt(last.draftPasses)} draft passes).`,
      );
  }
  return {
    ...base,
    answer,
    points,
    tables: [
      {
        caption: 'Time per K',
        head: [
          'K',
          'Time (s)',
          ...(baseline ? ['Speedup'] : []),
          ...(c.theory ? ['Predicted speedup'] : []),
          'Draft passes',
          'Draft share of time',
        ],
        rows: series.map((p) => [
          p.k === b.k ? `${p.k} (${c.tiedKs.length > 0 ? 'best median' : 'best'})` : String(p.k),
          spreadText(p.timeS, f3),
          ...(baseline ? [p.speedup ? spreadText(p.speedup, times) : '-'] : []),
          ...(c.theory ? [p.predictedSpeedup === null ? '-' : times(p.predictedSpeedup)] : []),
          cnt(p.draftPasses),
          p.draftTimeShare === null ? '-' : whole(p.draftTimeShare),
        ]),
      },
    ],
  };
}

// ----- 3. accepted tokens per verification -----

function acceptedSection(c: SectionContext): AnalysisSection {
  const base = {
    id: 'accepted' as const,
    number: 3,
    title: 'Impact of K on average accepted tokens',
    question:
      'How did the average number of tokens per target verification change with K, and what does it say about the efficiency of the speculation?',
  };
  const series = c.series.filter((p) => p.tokensPerPass !== null);
  if (series.length === 0) {
    return {
      ...base,
      answer: 'No speculative run finished, so there are no accepted tokens to count.',
      points: [],
      tables: [],
    };
  }
  const points: string[] = [];
  const first = series[0]!;
  const last = series.at(-1)!;
  let answer: string;
  if (series.length === 1) {
    answer = `At ${kl(first.k)} each target verification yielded ${f2(first.tokensPerPass!)} tokens${first.acceptanceRate !== null ? ` with ${pct(first.acceptanceRate)} of the drafts accepted` : ''}.`;
  } else {
    const trend = trendOf(series.map((p) => p.tokensPerPass!));
    const tpp = (p: KPoint): string => `${f2(p.tokensPerPass!)} at ${kl(p.k)}`;
    const shape =
      trend.kind === 'rose'
        ? `rose from ${tpp(first)} to ${tpp(last)}`
        : trend.kind === 'fell'
          ? `fell from ${tpp(first)} to ${tpp(last)}`
          : trend.kind === 'flat'
            ? `stayed at ${f2(first.tokensPerPass!)}`
            : trend.kind === 'plateau'
              ? `${trend.direction} from ${tpp(first)} to ${tpp(series[trend.at]!)}, then stayed there up to ${kl(last.k)}`
              : trend.kind === 'loosely'
                ? `${trend.direction} overall from ${tpp(first)} to ${tpp(last)}, not at every step`
                : trend.kind === 'peak'
                  ? `rose from ${tpp(first)} to a peak of ${tpp(series[trend.at]!)}, then fell to ${tpp(last)}`
                  : trend.kind === 'dip'
                    ? `fell from ${tpp(first)} to ${tpp(series[trend.at]!)}, then rose to ${tpp(last)}`
                    : `varied between ${f2(Math.min(...series.map((p) => p.tokensPerPass!)))} and ${f2(Math.max(...series.map((p) => p.tokensPerPass!)))}`;
    const accFirst = first.acceptanceRate;
    const accLast = last.acceptanceRate;
    answer = `Tokens per target verification ${shape}${
      accFirst !== null && accLast !== null
        ? `, while the share of drafts accepted ${accLast < accFirst ? 'fell' : accLast > accFirst ? 'rose' : 'stayed'} ${accLast === accFirst ? `at ${pct(accFirst)}` : `from ${pct(accFirst)} to ${pct(accLast)}`}`
        : ''
    }.`;
  }
  const perStep = series.filter((p) => p.acceptedPerStep !== null);
  if (perStep.length > 0)
    points.push(
      `Accepted drafts per verification: ${list(perStep.map((p) => `${f2(p.acceptedPerStep!)} of ${p.k} at ${kl(p.k)}`))}; each verification adds one token of the target's own on top.`,
    );
  points.push(
    `Efficiency (tokens per pass over the K + 1 ceiling): ${list(series.map((p) => `${whole(p.tokensPerPass! / (p.k + 1))} at ${kl(p.k)}`))}. ${
      series.length < 2
        ? 'Tokens per pass is the work one target pass does; the closer to K + 1, the less drafting is wasted.'
        : last.tokensPerPass! > first.tokensPerPass!
          ? `Going from ${kl(first.k)} to ${kl(last.k)} bought ${f2(last.tokensPerPass! - first.tokensPerPass!)} more tokens per pass, at a ${last.tokensPerPass! / (last.k + 1) < first.tokensPerPass! / (first.k + 1) ? 'smaller' : 'larger'} share of the ceiling.`
          : `Going from ${kl(first.k)} to ${kl(last.k)} bought no more tokens per pass, so the larger ceiling went unused.`
    }`,
  );
  if (c.alpha !== null) {
    const withExp = series.filter((p) => p.expectedTokensPerPass !== null);
    if (withExp.length > 0) {
      const ratios = withExp.map((p) => p.tokensPerPass! / p.expectedTokensPerPass!);
      const above = withExp.filter((_, i) => ratios[i]! > 1.05);
      const below = withExp.filter((_, i) => ratios[i]! < 0.95);
      points.push(
        `Leviathan et al. expect (1 - a^(K+1)) / (1 - a) tokens per pass; with a = ${f3(c.alpha)} (${c.alphaFromTheory ? "the sweep's alpha" : 'the K=1 acceptance'}) that is ${list(withExp.map((p) => `${f2(p.expectedTokensPerPass!)} at ${kl(p.k)}`))}. Measured over expected: ${f2(Math.min(...ratios))} to ${f2(Math.max(...ratios))}.${
          above.length > 0
            ? ` The measurement beat the expectation at ${list(above.map((p) => kl(p.k)))}: ${
                c.looping
                  ? 'acceptances come in runs because the text loops (see the note above): inside the cycle the draft predicts every token but one, far more often than a.'
                  : 'acceptances come in runs (an easy stretch of text is accepted token after token), not independently at rate a.'
              }`
            : below.length > 0
              ? ` The measurement fell short of it at ${list(below.map((p) => kl(p.k)))}: later draft positions were accepted less often than a.`
              : ' The measurement follows the expectation within 5%.'
        }`,
      );
    }
  } else if (c.seriesStrategy !== REFERENCE_STRATEGY) {
    points.push(
      `Leviathan's expectation assumes the draft model with a fixed K; it is not applied to ${c.seriesStrategy}.`,
    );
  }
  const pos = last.acceptanceByPosition;
  if (pos && pos.length > 1)
    points.push(
      `At ${kl(last.k)}, the 1st draft of a step was accepted in ${pct(pos[0]!)} of steps and the ${ordinal(pos.length)} in ${pct(pos.at(-1)!)}: a draft token only counts when every draft before it was accepted.`,
    );
  return {
    ...base,
    answer,
    points,
    tables: [
      {
        caption: 'Tokens per target verification per K',
        head: [
          'K',
          'Tokens per pass',
          ...(c.alpha !== null ? ['Expected (theory)'] : []),
          'Accepted drafts per step',
          'Acceptance rate',
          'Share of K + 1',
        ],
        rows: series.map((p) => [
          String(p.k),
          f2(p.tokensPerPass!),
          ...(c.alpha !== null
            ? [p.expectedTokensPerPass === null ? '-' : f2(p.expectedTokensPerPass)]
            : []),
          p.acceptedPerStep === null ? '-' : f2(p.acceptedPerStep),
          p.acceptanceRate === null ? '-' : pct(p.acceptanceRate),
          whole(p.tokensPerPass! / (p.k + 1)),
        ]),
      },
    ],
  };
}

// ----- 4. trade-offs -----

function tradeoffSection(c: SectionContext): AnalysisSection {
  const base = {
    id: 'tradeoffs' as const,
    number: 4,
    title: 'Trade-offs of K',
    question:
      'What are the trade-offs of a small versus a large K, given the draft model accuracy, the cost of drafting and the chance that drafts pass verification?',
  };
  const { series, theory, alpha } = c;
  if (series.length === 0) {
    return {
      ...base,
      answer: 'No speculative run finished, so the trade-offs of K cannot be measured.',
      points: [],
      tables: [],
    };
  }
  const points: string[] = [];
  let theoryTable: AnalysisTable | null = null;
  const measured = c.bestPoint;
  let answer: string;
  if (theory && c.predictedBestK !== null) {
    const predictedAt = series.find((p) => p.k === c.predictedBestK);
    const same = measured !== null && measured.k === c.predictedBestK;
    answer = `With alpha = ${f3(theory.alpha)} (draft accuracy: the K=1 acceptance) and c = ${f3(theory.c)} (a draft pass over a target pass), Leviathan's formula predicts ${kl(c.predictedBestK)} as best (${times(expectedSpeedup(theory.alpha, theory.c, c.predictedBestK))} expected); ${
      measured === null
        ? 'this sweep has no measured best K.'
        : same
          ? `this sweep measured ${kl(measured.k)} as best too${measured.speedup ? ` (${times(measured.speedup.median)})` : ''}${
              c.tiedKs.length > 0 ? `, within noise of ${list(c.tiedKs.map(kl))}` : ''
            }.`
          : `this sweep measured ${kl(measured.k)} as best${measured.speedup ? ` (${times(measured.speedup.median)})` : ''}${
              c.tiedKs.length > 0 ? `, within noise of ${list(c.tiedKs.map(kl))}` : ''
            }${
              predictedAt?.speedup
                ? `, and ${kl(predictedAt.k)} ran at ${times(predictedAt.speedup.median)}`
                : `; ${kl(c.predictedBestK)} was not tested`
            }.`
    }`;
  } else if (measured !== null) {
    answer = `This sweep measured ${kl(measured.k)} as the best K${measured.speedup ? ` (${times(measured.speedup.median)})` : ''}; without a measured cost ratio c there is no predicted best K to compare with${alpha !== null ? ` (alpha = ${f3(alpha)} from the K=1 runs)` : ''}.`;
  } else {
    answer = 'No best K could be measured.';
  }
  const smallest = series[0]!;
  const largest = series.at(-1)!;
  const describe = (p: KPoint): string =>
    `${kl(p.k)} drafted ${cnt(p.draftedTokens)} tokens per run and wasted ${cnt(p.wastedDrafts)} of them (${p.draftedTokens > 0 ? whole(p.wastedDrafts / p.draftedTokens) : '0%'} drafted but rejected or unchecked)${p.tokensPerPass !== null ? `, for ${f2(p.tokensPerPass)} tokens per target pass and ${cnt(p.targetPasses)} passes` : ''}`;
  if (series.length > 1) {
    points.push(
      `Small K: ${describe(smallest)}; a target pass can yield at most ${smallest.k + 1} tokens.`,
    );
    points.push(
      `Large K: ${describe(largest)}${largest.draftTimeShare !== null ? `, with ${whole(largest.draftTimeShare)} of the time spent drafting` : ''}.`,
    );
    const gain =
      smallest.tokensPerPass !== null && largest.tokensPerPass !== null
        ? largest.tokensPerPass - smallest.tokensPerPass
        : null;
    points.push(
      gain !== null && gain > 0
        ? `Going from ${kl(smallest.k)} to ${kl(largest.k)} raised tokens per pass by ${f2(gain)} and wasted drafts from ${cnt(smallest.wastedDrafts)} to ${cnt(largest.wastedDrafts)} per run: a large K pays only while drafts keep being accepted.`
        : `Going from ${kl(smallest.k)} to ${kl(largest.k)} did not raise tokens per pass but raised wasted drafts from ${cnt(smallest.wastedDrafts)} to ${cnt(largest.wastedDrafts)} per run: with this draft model a larger K only adds cost.`,
    );
  } else {
    points.push(
      `Only ${kl(smallest.k)} was tested: ${describe(smallest)}. Run more K values to see the trade-off in the measurements.`,
    );
  }
  if (alpha !== null) {
    const k = largest.k;
    points.push(
      `Chance of successful verification: all ${k} drafts of a step are accepted with probability alpha^K = ${f3(alpha)}^${k} = ${pct(alpha ** k)}${series.length > 1 ? ` (at ${kl(smallest.k)}: ${pct(alpha ** smallest.k)})` : ''}${
        alpha ** k < 0.1
          ? ', so the last drafts of a large K rarely count'
          : alpha ** k >= 0.5
            ? ', so most steps keep every draft even at this K'
            : ''
      }.`,
    );
  }
  if (theory) {
    const costs = series.map((p) => `${kl(p.k)} ${f2(1 + p.k * theory.c)}`);
    points.push(
      `Overhead of drafting: a step costs 1 + K c target passes of time: ${list(costs)}. The expected speedup (tokens per pass over that cost) is highest at ${kl(bestPredictedK(theory.alpha, theory.c))} for this alpha and c.`,
    );
    if (measured?.speedup && measured.predictedSpeedup !== null)
      points.push(
        `At ${kl(measured.k)} the measured speedup was ${f2(measured.speedup.median / measured.predictedSpeedup)} times the predicted ${times(measured.predictedSpeedup)}${
          measured.tokensPerPass !== null && measured.expectedTokensPerPass !== null
            ? `: it yielded ${f2(measured.tokensPerPass)} tokens per pass against the expected ${f2(measured.expectedTokensPerPass)}`
            : ''
        }${
          measured.targetPassMs !== null && c.baseline?.targetPassMs
            ? `, and its verification pass cost ${f2(measured.targetPassMs / c.baseline.targetPassMs)} one-token passes where the formula assumes 1`
            : ''
        }.`,
      );
  }
  const fitted = series.filter((p) => p.verifyCost !== null && p.predictedMeasuredCost !== null);
  if (theory && fitted.length > 0) {
    const ratio = (m: Spread | null, pred: number | null): string =>
      m && pred ? f2(m.median / pred) : '-';
    points.push(
      `Leviathan's formula assumes a target pass over K + 1 tokens costs what a one-token pass costs; measured after the sweep it cost ${list(fitted.map((p) => `${f2(p.verifyCost!)}x at ${kl(p.k)}`))}. With that measured cost the expected speedup is ${list(fitted.map((p) => `${times(p.predictedMeasuredCost!)} at ${kl(p.k)}`))}${
        theory.bestKMeasuredCost !== undefined ? `, best at ${kl(theory.bestKMeasuredCost)}` : ''
      }; measured / predicted per K is in the table.`,
    );
    theoryTable = {
      caption: 'Theory against measurement per K (speedups over the baseline)',
      head: [
        'K',
        'Measured',
        'Leviathan (constant cost)',
        'Measured / Leviathan',
        'Verify cost t(K+1)/t(1)',
        'With measured verify cost',
        'Measured / that',
      ],
      rows: fitted.map((p) => [
        String(p.k),
        p.speedup ? times(p.speedup.median) : '-',
        p.predictedSpeedup === null ? '-' : times(p.predictedSpeedup),
        ratio(p.speedup, p.predictedSpeedup),
        f2(p.verifyCost!),
        times(p.predictedMeasuredCost!),
        ratio(p.speedup, p.predictedMeasuredCost),
      ]),
    };
  }
  return {
    ...base,
    answer,
    points,
    tables: [
      {
        caption: 'Draft work per K (medians per run)',
        head: [
          'K',
          'Drafted',
          'Accepted',
          'Wasted (drafted - accepted)',
          'Wasted share',
          ...(theory ? ['Predicted speedup'] : []),
          ...(c.baseline ? ['Measured speedup'] : []),
        ],
        rows: series.map((p) => [
          String(p.k),
          cnt(p.draftedTokens),
          cnt(p.acceptedTokens),
          cnt(p.wastedDrafts),
          p.draftedTokens > 0 ? whole(p.wastedDrafts / p.draftedTokens) : '-',
          ...(theory ? [p.predictedSpeedup === null ? '-' : times(p.predictedSpeedup)] : []),
          ...(c.baseline ? [p.speedup ? times(p.speedup.median) : '-'] : []),
        ]),
      },
      ...(theoryTable ? [theoryTable] : []),
    ],
  };
}

// ----- 5. best configuration vs baseline -----

interface BaselineSectionData {
  rows: readonly RunRow[];
  summary: readonly SummaryRow[];
  best: BestFacts | null;
  prompts: readonly string[];
  label: (r: Pick<RunRow, 'mode' | 'k' | 'drafter' | 'policy'>) => string;
  strategies: boolean;
}

function baselineSection(c: SectionContext, d: BaselineSectionData): AnalysisSection {
  const base = {
    id: 'baseline' as const,
    number: 5,
    title: 'Comparison to baseline',
    question:
      'How did the best speculative configuration compare with plain autoregressive decoding in target passes and wall-clock time?',
  };
  const { baseline } = c;
  const { best } = d;
  if (!baseline || !best) {
    return {
      ...base,
      answer: !baseline
        ? 'No baseline run finished, so the best configuration cannot be compared with it.'
        : 'No speculative run finished, so there is nothing to compare with the baseline.',
      points: [],
      tables: [],
    };
  }
  const points: string[] = [];
  const passCut = 1 - best.targetPasses / baseline.targetPasses;
  const faster = best.speedup.median >= 1;
  const passText =
    best.targetPasses === baseline.targetPasses
      ? `the same ${cnt(best.targetPasses)} target passes as the baseline`
      : `${cnt(best.targetPasses)} target passes instead of ${cnt(baseline.targetPasses)} (${whole(Math.abs(passCut))} ${passCut >= 0 ? 'fewer' : 'more'})`;
  const who =
    best.tiedWith.length > 0
      ? `The configuration with the best median, ${best.label} (within noise of ${list(best.tiedWith)}),`
      : `The best configuration, ${best.label},`;
  let answer = `${who} needed ${passText} and took ${sec(best.timeS.median)} instead of ${sec(baseline.timeS.median)}: ${faster ? `a speedup of ${times(best.speedup.median)}` : `${times(best.speedup.median)} the baseline's speed, i.e. slower`}`;
  answer +=
    best.runs > 1 && best.speedup.n > 1
      ? `, ${times(best.speedup.min)} to ${times(best.speedup.max)} over its ${best.runs} runs.`
      : '.';
  if (!faster) {
    const n = best.speedupOverRepeats;
    answer +=
      n && n.n > 1 && n.max >= 1
        ? ` No speculative configuration was faster than the baseline beyond noise (${best.label}: ${times(n.min)} to ${times(n.max)} over ${n.n} repeats).`
        : ' No speculative configuration beat the baseline in this sweep.';
  }

  // Identity.
  const spec = d.rows.filter((r) => r.mode === 'speculative');
  const same = spec.filter((r) => r.identical).length;
  if (!c.sampled) {
    if (same === spec.length)
      points.push(
        `Output: all ${spec.length} speculative runs reproduced the baseline's tokens exactly (${best.identical}/${best.runs} for ${best.label}). With greedy decoding speculative decoding is lossless: it only changes how many target passes the same text takes.`,
      );
    else {
      const differing = d.summary
        .filter((r) => r.mode === 'speculative' && r.identicalCount < r.repeats)
        .map((r) => `${d.label(r)} (${r.repeats - r.identicalCount} of ${r.repeats})`);
      points.push(
        `Output: ${spec.length - same} of ${spec.length} speculative runs differed from the baseline's tokens: ${list(differing)}. Greedy speculative decoding should reproduce the baseline exactly; a difference usually comes from near-tied logits that a multi-token pass rounds differently from a one-token pass.`,
      );
    }
  } else {
    points.push(
      `Output: decoding was sampled, so identical outputs are not expected (${same} of ${spec.length} speculative runs happened to match the baseline's tokens); the verification's modified rejection sampling keeps the target's output distribution, so the method is still lossless in distribution.`,
    );
  }
  if (c.noCacheBaseline)
    points.push(
      `Against the notebook's baseline without a KV cache (${sec(c.noCacheBaseline.timeS.median)}), ${best.label} was ${times(c.noCacheBaseline.timeS.median / best.timeS.median)} faster; the KV-cache baseline is the fair comparison.`,
    );

  const tables: AnalysisTable[] = [];
  if (d.strategies) {
    const byStrategy = new Map<string, SummaryRow[]>();
    for (const r of d.summary) {
      if (r.mode !== 'speculative') continue;
      const s = strategyName(r);
      byStrategy.set(s, [...(byStrategy.get(s) ?? []), r]);
    }
    const bests = [...byStrategy].map(([s, rs]) => [s, bestRow(rs)] as const);
    points.push(
      `Best per drafter / policy: ${list(bests.map(([s, r]) => (r?.speedup ? `${s} at K=${r.k} (${times(r.speedup.median)})` : `${s}: no speedup measured`)))}.`,
    );
    tables.push({
      caption: 'Best K per drafter / policy',
      head: ['Drafter / policy', 'Best K', 'Time (s)', 'Target passes', 'Speedup'],
      rows: bests.map(([s, r]) => [
        s,
        r ? String(r.k) : '-',
        r ? f3(r.timeS.median) : '-',
        r ? cnt(r.targetPasses.median) : '-',
        r?.speedup ? times(r.speedup.median) : '-',
      ]),
    });
  }
  if (d.prompts.length > 1) {
    const byPrompt = summarizeByPrompt(d.rows);
    const perPrompt = byPrompt.map(({ promptIndex, rows }) => ({
      promptIndex,
      own: bestRow(rows),
      overall: rows.find((r) => r.key === best.key)?.speedup?.median ?? null,
      baseline: baselineRow(rows)?.timeS.median ?? null,
    }));
    const speeds = perPrompt.map((p) => p.overall).filter((v): v is number => v !== null);
    if (speeds.length > 0) {
      const s = spreadOf(speeds)!;
      const bestKs = new Map<string, number>();
      for (const p of perPrompt)
        if (p.own) bestKs.set(d.label(p.own), (bestKs.get(d.label(p.own)) ?? 0) + 1);
      points.push(
        `Across ${speeds.length} prompts ${best.label} ran at ${times(s.median)} the baseline on median (min ${times(s.min)}, max ${times(s.max)}). Each prompt's own best: ${list([...bestKs].map(([l, n]) => `${l} for ${n} prompt${n === 1 ? '' : 's'}`))}.`,
      );
    }
    tables.push({
      caption: 'Per prompt (medians over repeats)',
      head: ['#', 'Prompt', 'Baseline (s)', 'Best there', 'Its speedup', `${best.label} speedup`],
      rows: perPrompt.map((p) => [
        String(p.promptIndex + 1),
        shorten(d.prompts[p.promptIndex] ?? '', 40),
        p.baseline === null ? '-' : f3(p.baseline),
        p.own ? d.label(p.own) : '-',
        p.own?.speedup ? times(p.own.speedup.median) : '-',
        p.overall === null ? '-' : times(p.overall),
      ]),
    });
  }
  return { ...base, answer, points, tables };
}

function shorten(text: string, chars: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > chars ? `${flat.slice(0, chars)}...` : flat;
}

// ----- Markdown -----

/** Chart images for the report: relative paths (CLI) or data URIs (app). */
export interface AnalysisImages {
  time?: string;
  passes?: string;
  acceptance?: string;
}

const SECTION_IMAGE: Record<QuestionId, { key: keyof AnalysisImages; alt: string } | null> = {
  passes: { key: 'passes', alt: 'Target passes vs K' },
  time: { key: 'time', alt: 'Time and speedup vs K' },
  accepted: { key: 'acceptance', alt: 'Tokens per target pass vs K, measured and expected' },
  tradeoffs: null,
  baseline: null,
};

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function markdownTable(table: AnalysisTable): string {
  const lines = [
    `| ${table.head.map(cell).join(' | ')} |`,
    `| ${table.head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...table.rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ];
  return `*${cell(table.caption)}*\n\n${lines.join('\n')}`;
}

export function analysisMarkdown(analysis: Analysis, images: AnalysisImages = {}): string {
  const out: string[] = [`# ${analysis.title}`, ''];
  for (const line of analysis.context) out.push(`- ${line}`);
  out.push('');
  for (const note of analysis.notes) out.push(`> ${note}`, '>');
  if (analysis.notes.length > 0) out.splice(out.length - 1, 1, '');
  out.push('## Results', '', markdownTable(analysis.summary), '');
  if (analysis.bestInWords) out.push(`Best: ${analysis.bestInWords}`, '');
  for (const s of analysis.sections) {
    out.push(`## ${s.number}. ${s.title}`, '', `*${s.question}*`, '', `**${s.answer}**`, '');
    for (const p of s.points) out.push(`- ${p}`);
    if (s.points.length > 0) out.push('');
    for (const t of s.tables) out.push(markdownTable(t), '');
    const image = SECTION_IMAGE[s.id];
    const src = image ? images[image.key] : undefined;
    if (image && src && analysis.series.length > 0) out.push(`![${image.alt}](${src})`, '');
  }
  return (
    out
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trimEnd() + '\n'
  );
}
