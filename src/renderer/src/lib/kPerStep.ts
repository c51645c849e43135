/**
 * The K used at each step of a run (how many tokens were drafted there): from the replay index
 * of a finished run, or from the tokens shown while a run streams in. With the heuristic or the
 * confidence policy it changes from step to step.
 */
import type { EngineEvent } from '../../../shared/events';
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

/** a token-tree run's strip: the nodes of each step's tree and how many of them the target kept */
export interface TreeStrip {
  /** nodes drafted at steps 1..n (0: a step without a tree) */
  nodes: number[];
  /** nodes on each step's accepted path, its length (0 while a step is not yet verified) */
  accepted: number[];
}

/**
 * Nodes and accepted path length of each step's tree among the first `applied` events of a run
 * (steps 1..`steps`); null when none of them is a tree's verify event (a chain's run).
 */
export function treeStrip(
  events: readonly EngineEvent[],
  applied: number,
  steps: number,
): TreeStrip | null {
  const nodes = new Array<number>(Math.max(0, steps)).fill(0);
  const accepted = new Array<number>(Math.max(0, steps)).fill(0);
  let trees = 0;
  for (let i = 0; i < Math.min(applied, events.length); i++) {
    const event = events[i]!;
    if (event.type !== 'verify' || !event.tree) continue;
    trees++;
    if (event.step < 1 || event.step > steps) continue;
    nodes[event.step - 1] = event.tree.nodes.length;
    accepted[event.step - 1] = event.tree.nodes.filter((n) => n.verdict === 'accepted').length;
  }
  return trees > 0 ? { nodes, accepted } : null;
}

/**
 * "15 nodes per tree at all 12 steps · 1.6 accepted per tree (most 3)": what the tree strip
 * shows, in words; the mean over the trees verified so far.
 */
export function describeTreeStrip(strip: TreeStrip): string {
  const verified = strip.nodes.map((n, i) => ({ n, a: strip.accepted[i]! })).filter((s) => s.n > 0);
  if (verified.length === 0) return 'No tree verified yet.';
  const sizes = verified.map((s) => s.n).sort((a, b) => a - b);
  const lo = sizes[0]!;
  const hi = sizes[sizes.length - 1]!;
  const count = `${verified.length} tree${verified.length === 1 ? '' : 's'}`;
  const size =
    lo === hi
      ? `${lo} node${lo === 1 ? '' : 's'} in each of ${count}`
      : `${lo} to ${hi} nodes over ${count}`;
  const mean = verified.reduce((sum, s) => sum + s.a, 0) / verified.length;
  const most = Math.max(...verified.map((s) => s.a));
  return `${size} · accepted ${mean.toFixed(1)} per tree (most ${most})`;
}
