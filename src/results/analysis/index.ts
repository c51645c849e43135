/**
 * The exercise's "Analysis and Discussion", answered from a sweep's own numbers: one section per
 * question (K vs target passes, K vs time, K vs tokens per verification, the trade-offs of K, the
 * best configuration vs the baseline). Every finding is computed from the rows (and the theory,
 * when the sweep has one); what cannot be measured (no baseline, one K, a cancelled sweep) is
 * said as such. A controlled-acceptance sweep adds "Which K at which alpha" (acceptanceGrid.ts), and
 * every sweep whose runs split their time "Where the time goes". Pure: no DOM, no Node, so the CLI report and the app's panel share it.
 */
export { analyzeSweep } from './analyze';
export { analysisMarkdown, markdownTable, type AnalysisImages } from './markdown';
export type {
  Analysis,
  AnalysisExtra,
  AnalysisInput,
  AnalysisSection,
  AnalysisSettings,
  AnalysisTable,
  BaselineFacts,
  BestFacts,
  KPoint,
  QuestionId,
  SweepOutcome,
} from './types';
