/**
 * Exact sampling with token trees: a node's children are distinct tokens drawn one after another
 * from the draft's warped distribution without replacement, and the target verifies them by
 * recursive rejection sampling (Jeon et al. 2024, "Recursive Speculative Decoding"), so every
 * token the tree emits follows the target's own warped distribution, as a chain's does.
 *
 * The rule at one node. p: the target's warped distribution after the node's path; q: the draft's
 * after the same path; x_1..x_k the children in the order they were drawn, x_i from
 *   q_i = q with x_1..x_{i-1} removed, renormalised.
 * With p_1 = p, for i = 1..k: accept x_i with probability min(1, p_i(x_i) / q_i(x_i)) and go down
 * to it; on a rejection p_{i+1} = normalise(max(0, p_i - q_i)) and try x_{i+1}. When all k are
 * rejected the target's token is drawn from p_{k+1} (a correction); a node with no children
 * (a leaf, an end of text, the depth reached) draws it from p (a bonus).
 *
 * Why the node's token follows p exactly. Claim: for any drawn history x_1..x_{i-1} and any
 * current target r, the steps from i on emit a token distributed as r. At i = k + 1 the token is
 * drawn from r. At i <= k: x_i ~ q_i given the history, so token y is accepted at step i with
 * probability q_i(y) min(1, r(y) / q_i(y)) = min(q_i(y), r(y)); step i rejects with probability
 * beta = sum_y max(0, r(y) - q_i(y)), and then the later steps run with r' = max(0, r - q_i) / beta,
 * which does not depend on x_i, so by the claim at i + 1 (whatever x_i was) they emit y with
 * probability r'(y). In all: min(q_i(y), r(y)) + max(0, r(y) - q_i(y)) = r(y). The claim at i = 1,
 * r = p, is the node's exactness. Removing x_i from q_{i+1} is consistent: x_i was rejected only
 * if r(x_i) < q_i(x_i), so r'(x_i) = 0 and no later step can emit it. Everything needs only that
 * x_i is a draw from q_i given the tokens before it and that the tree's shape below a node
 * depends on drawn tokens alone (a static shape, an end of text), never on the acceptance coins;
 * a node budget's best-N selection would bias which draws stand, so budgets stay greedy.
 *
 * Down the tree. An accepted child's own children were drawn from the draft after the child's
 * path, before and independently of the coins above, so the same claim holds there with p and q
 * after the longer path; by the chain rule the emitted sequence follows the target's warped
 * distribution token by token: the baseline's. SpecInfer's i.i.d. siblings use the same test
 * against q itself (no removal); drawing without replacement never wastes a branch on a
 * repeated token.
 */
import { argmaxWithMargin } from '../../model/argmax';
import { residualDistribution, sample, warp, type SamplingParams } from '../sampling';
import type { TokenTree } from './tokenTree';
import type { NodeVerdict, TreeWalk, TreeWalker } from './treeWalk';

/** the target's distribution after a rejection (p_{i+1} from p_i and q_i); a test may break it */
export type ResidualUpdate = (p: Float64Array, q: Float64Array) => Float64Array;

/** How a sampled tree is drawn and verified: the warp, the run's seeded random source. */
export interface TreeSampler {
  params: SamplingParams;
  random: () => number;
  /** only the statistical test replaces it */
  residual?: ResidualUpdate;
}

/**
 * Up to `count` distinct tokens, each drawn from q with the tokens before it removed and the rest
 * renormalised (fewer when q holds fewer tokens: a top-k or top-p warp).
 */
export function drawWithoutReplacement(
  q: Float64Array,
  count: number,
  random: () => number,
): number[] {
  const left = Float64Array.from(q);
  const drawn: number[] = [];
  while (drawn.length < count && massOf(left) > 0) {
    const token = sample(left, random);
    drawn.push(token);
    left[token] = 0;
  }
  return drawn;
}

function massOf(w: Float64Array): number {
  let total = 0;
  for (let i = 0; i < w.length; i++) total += w[i]!;
  return total;
}

/** The walk by recursive rejection sampling (the rule above), over one pass's logits. */
export function sampledWalker(sampler: TreeSampler, withProbs: boolean): TreeWalker {
  const update = sampler.residual ?? residualDistribution;
  return (tree, logits, rowOf) => {
    const { params, random } = sampler;
    const gap = new Float64Array(1);
    const targetDists = new Map<number, Float64Array>();
    const targetDist = (node: number): Float64Array => {
      let p = targetDists.get(node);
      if (!p) targetDists.set(node, (p = warp(logits.row(rowOf(node)), params)));
      return p;
    };
    const verdicts: NodeVerdict[] = tree.nodes.map(() => 'unchecked');
    const accepted: number[] = [];
    const targetTokenIds: number[] = [];
    let margin = Infinity;
    let at = -1;
    for (;;) {
      argmaxWithMargin(logits.row(rowOf(at)), gap);
      margin = Math.min(margin, gap[0]!);
      const p = targetDist(at);
      const next = tryChildren(tree, at, p, update, random, verdicts);
      if (typeof next === 'number') {
        accepted.push(next);
        targetTokenIds.push(tree.nodes[next]!.tokenId);
        at = next;
        continue;
      }
      // every child rejected: the last residual; a leaf: p itself
      const token = sample(next.residual, random);
      targetTokenIds.push(token);
      return {
        accepted,
        verdicts,
        targetTokenIds,
        targetProbs: withProbs ? tree.nodes.map((n) => targetDist(n.parent)[n.tokenId]!) : null,
        finalProb: withProbs ? p[token]! : null,
        margin,
      } satisfies TreeWalk;
    }
  };
}

/**
 * The children of `node` tried in the order they were drawn: the accepted child, or the target's
 * distribution left after every child was rejected (p itself for a node with no children).
 */
function tryChildren(
  tree: TokenTree,
  node: number,
  p: Float64Array,
  update: ResidualUpdate,
  random: () => number,
  verdicts: NodeVerdict[],
): number | { residual: Float64Array } {
  const children = tree.children(node);
  if (children.length === 0) return { residual: p };
  const q = tree.childDist(node);
  if (!q) throw new Error('sampledWalker: a tree drafted without its draft distributions');
  const left = Float64Array.from(q);
  let target = p;
  for (const child of children) {
    const x = tree.nodes[child]!.tokenId;
    const mass = massOf(left);
    const qi = left.map((v) => v / mass);
    if (random() < Math.min(1, target[x]! / qi[x]!)) {
      verdicts[child] = 'accepted';
      return child;
    }
    verdicts[child] = 'rejected';
    target = update(target, qi);
    left[x] = 0;
  }
  return { residual: target };
}
