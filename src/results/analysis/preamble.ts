/**
 * What the report says before the answers: the set-up, one line each, and the notes on what
 * limits the answers (a partial sweep, no baseline, no theory, a loop, sampling).
 */
import { count, fixed } from '../../shared/format';
import { REFERENCE_STRATEGY } from '../strategy';
import { pairSentence } from '../pairWords';
import type { Completeness } from './completeness';
import type { KSeries } from './kSeries';
import type { AnalysisInput, BaselineFacts } from './types';
import { kLabel, list } from './words';

/** models, prompts, settings and decoding; the baseline's early stop */
export function contextLines(
  input: AnalysisInput,
  plannedStrategies: boolean,
  baseline: BaselineFacts | null,
): string[] {
  const { prompts, settings } = input;
  const context: string[] = [
    `Target model: ${input.models.target}; draft model: ${input.models.draft}.`,
    prompts.length === 1
      ? `Prompt: "${prompts[0]}".`
      : `${prompts.length} prompts; medians over prompts and repeats.`,
    `Max new tokens ${settings.maxNewTokens}; K values ${settings.ks.join(', ')}; ${settings.repeats} repeat${settings.repeats === 1 ? '' : 's'}; ${
      settings.sampling !== null
        ? `sampled (temperature ${settings.sampling.temperature}, top-k ${settings.sampling.topK}, top-p ${settings.sampling.topP}, seed ${settings.sampling.seed})`
        : 'greedy decoding'
    }.`,
  ];
  const pair = input.rows[0] && pairSentence(input.rows[0]);
  if (pair) context.push(pair);
  if (plannedStrategies)
    context.push(
      `Drafters ${settings.drafters.join(', ')}; policies ${settings.policies.join(', ')}.`,
    );
  if (baseline && baseline.newTokens < settings.maxNewTokens)
    context.push(
      `The baseline stopped after ${count(baseline.newTokens)} new tokens (end of text or the context limit), before ${settings.maxNewTokens}.`,
    );
  return context;
}

export interface NotesFacts {
  input: AnalysisInput;
  completeness: Completeness;
  baseline: BaselineFacts | null;
  kSeries: KSeries;
  /** the finished rows compare drafters / policies */
  strategies: boolean;
  /** loops.ts's note on outputs caught in a cycle, null when none is */
  loop: string | null;
}

export function sweepNotes(f: NotesFacts): string[] {
  const { input, completeness, baseline, kSeries } = f;
  const { status } = input;
  const { missing, runsPlanned } = completeness;
  const series = kSeries.points;
  const notes: string[] = [];
  const doneText = `${input.rows.length} of ${runsPlanned} planned runs`;
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
  if (!kSeries.anySpeculative) notes.push('No speculative run finished.');
  else if (series.length === 1)
    notes.push(`Only ${kLabel(series[0]!.k)} was measured, so trends over K cannot be seen.`);
  if (f.strategies)
    notes.push(
      `The sweep compares drafters/policies; questions 1 to 4 are answered for ${kSeries.strategy}${
        kSeries.strategy === REFERENCE_STRATEGY ? ' (the draft model with a fixed K)' : ''
      }, question 5 covers all of them.`,
    );
  if (kSeries.acceptanceTarget !== null) {
    const targets = kSeries.acceptanceTargets;
    notes.push(
      `Acceptance is controlled (--acceptance ${targets.join(',')}): questions 1 to 4 are answered at alpha ${kSeries.acceptanceTarget}${
        targets.length > 1 ? ", the best configuration's" : ''
      }${kSeries.theory ? ", Leviathan's expectations at that alpha with the pair's measured costs" : ''}; "Which K at which alpha" compares every alpha, question 5 every configuration.`,
    );
  }
  if (!kSeries.theory) {
    const why =
      kSeries.k1Runs === 0 && kSeries.acceptanceTarget === null
        ? 'the sweep has no finished K=1 run drafted by the model, which alpha is measured from'
        : status !== 'finished'
          ? 'the cost ratio c is only measured after a sweep finishes'
          : 'the cost ratio c was not measured';
    notes.push(
      `No Leviathan prediction for this sweep: ${why}.${
        kSeries.acceptanceTarget !== null
          ? ` Expected tokens per pass still use alpha = ${kSeries.acceptanceTarget}, the acceptance target.`
          : kSeries.k1Alpha !== null
            ? ` Expected tokens per pass still use alpha = ${fixed(kSeries.k1Alpha, 3)} from the K=1 runs.`
            : ''
      }`,
    );
  }
  if (f.loop) notes.push(f.loop);
  if (input.settings.sampling !== null)
    notes.push(
      "Decoding was sampled: outputs are not expected to equal the baseline's; speculative sampling keeps the target's output distribution instead.",
    );
  return notes;
}
