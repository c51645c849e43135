/**
 * One step of a token-tree run as the tree panel draws it, read from the run's events: the
 * nodes (structure from the step's verify event, text from its draft events), how far the replay
 * has got into the step (drafted so far, verified or not), and the target's own token at the end
 * of the accepted path (a correction or a bonus) once it is emitted.
 */
import type { EngineEvent, TreeVerifyMode } from '../../../shared/events';

export type NodeVerdict = 'accepted' | 'rejected' | 'unchecked' | 'pending';

export interface TreeStepNode {
  /** index in the verify event's node list (and the step's draft index) */
  index: number;
  /** the parent's index; -1: the pending token (the root) */
  parent: number;
  depth: number;
  tokenId: number;
  text: string;
  draftProb: number | null;
  targetProb: number | null;
  /** pending until the step's verify event is on screen */
  verdict: NodeVerdict;
  /** its draft event is on screen */
  drafted: boolean;
}

export interface TreeStepEnd {
  /** the node the target's token follows: the last accepted node, or -1 (the root) */
  parent: number;
  tokenId: number;
  text: string;
  kind: 'correction' | 'bonus';
  targetProb: number | null;
}

export interface TreeStepView {
  step: number;
  verify: TreeVerifyMode;
  nodes: TreeStepNode[];
  /** the step's verify event is on screen */
  verified: boolean;
  /** the accepted path, root to leaf, as node indices */
  accepted: number[];
  /** the target's token after the accepted path, once emitted (null before, or at max tokens) */
  end: TreeStepEnd | null;
}

/**
 * The tree of `step` with the first `applied` events on screen; null when the step has no tree
 * (a chain's step, the prompt, a step with no room to draft).
 */
export function treeAtStep(
  events: readonly EngineEvent[],
  step: number,
  applied: number,
): TreeStepView | null {
  if (step <= 0) return null;
  const drafts = new Map<number, { text: string; onScreen: boolean }>();
  let verifyAt = -1;
  let endAt = -1;
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    if (event.type === 'run-start' || event.type === 'run-end' || event.step !== step) continue;
    if (event.type === 'draft')
      drafts.set(event.index, { text: event.text, onScreen: i < applied });
    else if (event.type === 'verify') verifyAt = i;
    else if (event.type === 'emit' && (event.kind === 'correction' || event.kind === 'bonus'))
      endAt = i;
    else if (event.type === 'step-end') break;
  }
  const verify = verifyAt >= 0 ? events[verifyAt] : undefined;
  if (verify?.type !== 'verify' || !verify.tree) return null;
  const verified = verifyAt < applied;
  const nodes: TreeStepNode[] = verify.tree.nodes.map((node, index) => ({
    index,
    parent: node.parent,
    depth: node.depth,
    tokenId: node.tokenId,
    text: drafts.get(index)?.text ?? '',
    draftProb: node.draftProb,
    targetProb: verified ? (verify.targetProbs?.[index] ?? null) : null,
    verdict: verified ? node.verdict : 'pending',
    drafted: drafts.get(index)?.onScreen ?? verified,
  }));
  const accepted = verified ? acceptedPath(nodes) : [];
  const endEvent = endAt >= 0 && endAt < applied ? events[endAt] : undefined;
  const end: TreeStepEnd | null =
    endEvent?.type === 'emit' && (endEvent.kind === 'correction' || endEvent.kind === 'bonus')
      ? {
          parent: accepted.at(-1) ?? -1,
          tokenId: endEvent.tokenId,
          text: endEvent.text,
          kind: endEvent.kind,
          targetProb: endEvent.targetProb,
        }
      : null;
  return { step, verify: verify.tree.verify, nodes, verified, accepted, end };
}

/** the accepted nodes from the root down: each the accepted child of the one before */
export function acceptedPath(nodes: readonly Pick<TreeStepNode, 'parent' | 'verdict'>[]): number[] {
  const path: number[] = [];
  let parent = -1;
  for (;;) {
    const next = nodes.findIndex((n) => n.parent === parent && n.verdict === 'accepted');
    if (next < 0) return path;
    path.push(next);
    parent = next;
  }
}

/** the step whose tree is in focus: the step on screen, else the latest step with a tree */
export function latestTreeStep(events: readonly EngineEvent[], applied: number): number | null {
  for (let i = Math.min(applied, events.length) - 1; i >= 0; i--) {
    const event = events[i]!;
    if (event.type === 'verify' && event.tree) return event.step;
  }
  return null;
}

/** the pending token a step's tree grows from: the last token emitted before the step */
export function pendingTokenText(events: readonly EngineEvent[], step: number): string {
  let text: string | null = null;
  for (const event of events) {
    if (event.type === 'emit') {
      if (event.step >= step) break;
      text = event.text;
    }
  }
  return text ?? '(prompt)';
}

/** the run drafts token trees: one of its verify events carries a tree */
export function hasTrees(events: readonly EngineEvent[]): boolean {
  return latestTreeStep(events, events.length) !== null;
}
