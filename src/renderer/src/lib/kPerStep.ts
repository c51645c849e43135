/**
 * The K used at each step of a run (how many tokens were drafted there): from the replay index
 * of a finished run, or from the tokens shown while a run streams in. With the heuristic or the
 * confidence policy it changes from step to step.
 */
import type { ReplayIndex } from './replayIndex';
import type { StreamToken } from './stream';

/** token kinds that were drafts */
const DRAFTED: ReadonlySet<StreamToken['kind']> = new Set(['draft', 'accepted', 'rejected']);

/** drafts at steps 1..n of an indexed run (index.steps[0] is the prompt) */
export function kPerStepFromIndex(index: ReplayIndex): number[] {
  return index.steps.slice(1).map((s) => s.drafts);
}

/** drafts at steps 1..`steps` among the tokens shown (a step without drafts counts 0) */
export function kPerStepFromTokens(tokens: readonly StreamToken[], steps: number): number[] {
  const counts = new Array<number>(Math.max(0, steps)).fill(0);
  for (const token of tokens) {
    if (token.step === null || token.step < 1 || token.step > steps) continue;
    if (DRAFTED.has(token.kind)) counts[token.step - 1]!++;
  }
  return counts;
}

/** "K per step: 1 to 5, median 3" in words, for the strip's label */
export function describeKPerStep(ks: readonly number[]): string {
  if (ks.length === 0) return 'No steps yet.';
  const sorted = [...ks].sort((a, b) => a - b);
  const lo = sorted[0]!;
  const hi = sorted[sorted.length - 1]!;
  const steps = `${ks.length} step${ks.length === 1 ? '' : 's'}`;
  return lo === hi ? `K=${lo} at all ${steps}` : `K from ${lo} to ${hi} over ${steps}`;
}
