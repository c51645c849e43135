/**
 * The shapes of a sweep's analysis: what it is computed from (AnalysisInput), the facts it
 * computes (KPoint, BaselineFacts, BestFacts) and the answers it gives (Analysis, its sections).
 */
import type { RunRow, Theory } from '../../shared/protocol';
import type { DraftPolicyName, DrafterKind } from '../../shared/decoding';
import type { Spread } from '../../shared/stats';
import type { AcceptanceGrid, GridCosts } from '../acceptanceGrid';
import type { KVerdict } from './kVerdict';

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
  /** controlled acceptance targets (`--acceptance`): every K runs once per target; absent: real drafting */
  acceptance?: readonly number[];
}

export interface AnalysisInput {
  rows: readonly RunRow[];
  theory: Theory | null;
  prompts: readonly string[];
  models: { target: string; draft: string };
  settings: AnalysisSettings;
  status: SweepOutcome;
  /**
   * the pair's measured costs (c, verification cost per K), which a controlled-acceptance sweep
   * has without a theory (it measures no alpha); absent: the theory's, when there is one
   */
  costs?: GridCosts | null;
}

export interface AnalysisTable {
  caption: string;
  head: string[];
  rows: string[][];
  /** columns of words, not numbers (left-aligned, as the first); by index */
  textColumns?: number[];
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
  /** the configurations it did not beat run for run (labels): tied with it */
  tiedWith: string[];
  /** it beat the baseline by the verdict's rule */
  beatBaseline: boolean;
  /** at least 3 paired runs: the verdict could tell noise from a difference */
  noiseMeasured: boolean;
  /** what the verdict compared, e.g. "3 repeats paired run for run" */
  over: string;
  speedupOverRepeats: Spread | null;
}

/**
 * A part of the report beside the exercise's five questions (the K x alpha picture, where the time
 * goes): its answer is one sentence per line, as the CLI prints them.
 */
export interface AnalysisExtra {
  id: 'k-at-alpha' | 'time-split' | 'trees';
  title: string;
  question: string;
  /** the answer, one sentence each (per alpha for 'k-at-alpha') */
  answers: string[];
  points: string[];
  tables: AnalysisTable[];
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
  /** the verdict in words: summary.ts bestSentence, as the CLI, the app and the history say it */
  bestInWords: string | null;
  /** the best configuration of the whole sweep (the results table's best row) */
  best: BestFacts | null;
  theory: Theory | null;
  /** per-token acceptance used for the expectations: the theory's, else the K=1 runs' */
  alpha: number | null;
  predictedBestK: number | null;
  /** every K whose predicted speedup equals the best's as shown (2 decimals): ties are named */
  predictedBestKs: number[];
  summary: AnalysisTable;
  sections: AnalysisSection[];
  /** the K x alpha picture (acceptanceGrid.ts), null without acceptance targets */
  acceptanceGrid: AcceptanceGrid | null;
  /** "Which K at which alpha": the grid in words and tables, null without acceptance targets */
  kAtAlpha: AnalysisExtra | null;
  /** "Where the time goes": each configuration's time split, null when no run recorded one */
  timeSplit: AnalysisExtra | null;
  /** "Token trees against chains" (trees.ts): null or absent without a tree run */
  trees?: AnalysisExtra | null;
}

/** what tells one configuration of a sweep from another */
export type Configuration = Pick<RunRow, 'mode' | 'k' | 'drafter' | 'policy' | 'acceptanceTarget'>;

/** What the sections about K share: the series' facts and what the sweep can say about them. */
export interface SectionContext {
  series: KPoint[];
  baseline: BaselineFacts | null;
  noCacheBaseline: BaselineFacts | null;
  bestPoint: KPoint | null;
  measuredBestK: number | null;
  /** per-token acceptance for Leviathan's expectations; null when they do not apply to the series */
  alpha: number | null;
  /** alpha is the sweep's theory's (else the K=1 runs' acceptance) */
  alphaFromTheory: boolean;
  /** the series runs at this controlled acceptance (alpha is it); null: real drafting */
  acceptanceTarget: number | null;
  /** null without a theory or when it does not apply to the series (not the draft model, fixed K) */
  theory: Theory | null;
  predictedBestK: number | null;
  /** repeats measured (each covers every prompt): what noise is judged over */
  repeats: number;
  sampled: boolean;
  /** the series' drafter / policy, e.g. "model / fixed" */
  seriesStrategy: string;
  /** the sweep compares drafters / policies */
  strategies: boolean;
  /** prompts in the sweep */
  prompts: number;
  /** the verdict over the series' Ks (bestOf's paired rule); null when none can be compared */
  verdict: KVerdict | null;
  /** the Ks Leviathan's formula predicts as best, ties at the shown precision included */
  predictedBestKs: number[];
  /** some run's text falls into a repeating cycle (loops.ts) */
  looping: boolean;
}
