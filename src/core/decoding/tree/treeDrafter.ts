/**
 * Drafting a token tree with the draft model, one draft pass per depth, the depth's expanded
 * nodes batched as rows over the draft's cache gathered to one row per parent. Static shapes
 * (`--tree 3,2,1`): each node's children are its top-b tokens, the first the greedy one, so the
 * tree holds the chain; sampled, b distinct draws from the draft's warped distribution, without
 * replacement (treeSampling.ts). A node budget (`--tree-budget N`, EAGLE-2's dynamic tree): the
 * N nodes whose paths have the highest product of draft probabilities (dynamicTree.ts). Under the
 * repetition controls every row is processed with its own path as a chain's draft rows are. Under
 * controlled acceptance (static shapes, greedy) the oracle picks each node's children from the
 * draft's ranking (treeOracle.ts); the passes are the same.
 */
import { logSumExp, topK } from '../../model/argmax';
import type { OnnxCausalLM } from '../../model/causalLm';
import type { Logits } from '../../model/logits';
import type { TreeShape } from '../../../shared/treeShape';
import { applyRepetition, type RepetitionParams } from '../repetition';
import { warp } from '../sampling';
import { BudgetGrowth } from './dynamicTree';
import { TokenTree } from './tokenTree';
import type { TreeOracle } from './treeOracle';
import { drawWithoutReplacement, type TreeSampler } from './treeSampling';

/** what to draft: a static shape, or a node budget */
export type TreePlan = { shape: TreeShape } | { budget: number };

/** One expanded depth: the candidates' parents, each one a batch row of the pass that follows. */
interface Frontier {
  /** the token path each row of the draft's cache holds after the context */
  paths: number[][];
  /** the logits row scoring each frontier node's children */
  logits: Logits;
  rows: number[];
}

export class TreeDrafter {
  /** the token path each cache row holds after `base` (one empty path: the context alone) */
  private rowPaths: number[][] = [[]];
  /** context length the last draft() started from */
  private base = 0;
  /** the context the current tree follows */
  private context: readonly number[] = [];

  constructor(
    private readonly lm: OnnxCausalLM,
    /** the ids that end the text: a node with one gets no children */
    private readonly eosTokenIds: readonly number[],
    private readonly repetition: RepetitionParams | null = null,
    /** sampled trees: each node's children drawn without replacement (static shapes only) */
    private readonly sampler: TreeSampler | null = null,
    /** controlled acceptance: the oracle places the target's token among a node's children */
    private readonly oracle: TreeOracle | null = null,
  ) {}

  /**
   * The tree after `context`, at most `depth` deep: the first pass feeds whatever the draft has
   * not seen, then each depth's expanded nodes go in one batched pass.
   */
  async draft(
    context: readonly number[],
    plan: TreePlan,
    depth: number,
    withProbs: boolean,
  ): Promise<TokenTree> {
    const logits = await this.lm.forward(context.slice(this.lm.length));
    this.base = context.length;
    this.rowPaths = [[]];
    const root: Frontier = { paths: [[]], logits, rows: [logits.rows - 1] };
    this.context = context;
    this.oracle?.follow(context);
    return 'shape' in plan
      ? this.grow(root, plan.shape, depth, withProbs)
      : this.growBudget(root, plan.budget, depth);
  }

  /** the scores of frontier row i, under the repetition controls of its own path */
  private scores(frontier: Frontier, i: number): Float32Array {
    const row = frontier.logits.row(frontier.rows[i]!);
    if (this.repetition) applyRepetition(row, this.repetition, this.context, frontier.paths[i]!);
    return row;
  }

  /**
   * a node's `count` children (`path`: its tokens after the context): its top tokens, the
   * oracle's choice from its ranking, or sampled, distinct draws (recorded in the tree)
   */
  private pick(
    tree: TokenTree,
    parent: number,
    path: readonly number[],
    scores: Float32Array,
    count: number,
    withProbs: boolean,
  ): Array<{ token: number; prob: number | null }> {
    if (this.sampler) {
      const q = warp(scores, this.sampler.params);
      tree.setChildDist(parent, q);
      return drawWithoutReplacement(q, count, this.sampler.random).map((token) => ({
        token,
        prob: withProbs ? q[token]! : null,
      }));
    }
    const lse = withProbs ? logSumExp(scores) : 0;
    // the oracle's wrong siblings are the draft's next best that are neither the target's token
    // nor an end of text: one more than asked, and one for each end-of-text id, always suffice
    const chosen = this.oracle
      ? this.oracle.children(
          this.context,
          path,
          topK(scores, count + 1 + this.eosTokenIds.length),
          count,
        )
      : topK(scores, count);
    return chosen.map((token) => ({
      token,
      prob: withProbs ? Math.exp(scores[token]! - lse) : null,
    }));
  }

  /** a static shape: every node's top-b children, depth by depth */
  private async grow(
    root: Frontier,
    shape: TreeShape,
    depth: number,
    withProbs: boolean,
  ): Promise<TokenTree> {
    const tree = new TokenTree();
    let frontier = root;
    let parents = [-1];
    for (let d = 0; d < depth; d++) {
      const children: number[] = [];
      parents.forEach((parent, i) => {
        for (const { token, prob } of this.pick(
          tree,
          parent,
          frontier.paths[i]!,
          this.scores(frontier, i),
          shape[d]!,
          withProbs,
        ))
          children.push(tree.add(parent, token, prob));
      });
      const expand = children.filter((c) => !this.ends(tree.nodes[c]!.tokenId));
      if (d === depth - 1 || expand.length === 0) break;
      frontier = await this.expand(
        frontier,
        expand.map((c) => parents.indexOf(tree.nodes[c]!.parent)),
        expand.map((c) => tree.nodes[c]!.tokenId),
      );
      parents = expand;
    }
    return tree;
  }

  /** a node budget: candidates scored by their path's probability, the best N kept */
  private async growBudget(root: Frontier, budget: number, depth: number): Promise<TokenTree> {
    const growth = new BudgetGrowth(budget);
    let frontier = root;
    let parents = [-1];
    for (let d = 0; d < depth; d++) {
      const added = parents.flatMap((parent, i) => {
        const scores = this.scores(frontier, i);
        const lse = logSumExp(scores);
        return topK(scores, budget).map((token) =>
          growth.add(parent, token, Math.exp(scores[token]! - lse)),
        );
      });
      // expand only what could still be among the best N (a child scores at most its parent)
      const expand = growth
        .worthExpanding(added)
        .filter((c) => !this.ends(growth.candidates[c]!.tokenId));
      if (d === depth - 1 || expand.length === 0) break;
      frontier = await this.expand(
        frontier,
        expand.map((c) => parents.indexOf(growth.candidates[c]!.parent)),
        expand.map((c) => growth.candidates[c]!.tokenId),
      );
      parents = expand;
    }
    return growth.tree();
  }

  /** one batched pass: row i continues cache row from[i] with tokens[i] */
  private async expand(frontier: Frontier, from: number[], tokens: number[]): Promise<Frontier> {
    this.lm.selectRows(from);
    const logits = await this.lm.forwardRows(tokens.map((t) => [t]));
    const paths = from.map((row, i) => [...frontier.paths[row]!, tokens[i]!]);
    this.rowPaths = paths;
    return { paths, logits, rows: tokens.map((_, i) => i) };
  }

  private ends(token: number): boolean {
    return this.eosTokenIds.includes(token);
  }

  /**
   * The first `keep` tokens of the context are final, `accepted` (the accepted path's tokens)
   * among them: keep the cache row that shares the most of that path, cropped to what stands;
   * the next draft feeds the rest.
   */
  rollback(keep: number, accepted: readonly number[]): void {
    let best = 0;
    let shared = 0;
    this.rowPaths.forEach((path, row) => {
      let n = 0;
      while (n < path.length && n < accepted.length && path[n] === accepted[n]) n++;
      if (n > shared) [best, shared] = [row, n];
    });
    if (this.lm.batch > 1) this.lm.selectRows([best]);
    this.rowPaths = [[]];
    const stands = Math.min(keep, this.base + shared);
    if (stands < this.lm.length) this.lm.crop(stands);
  }

  /** a step with no tree (no room to draft): the cache keeps what is final */
  forget(keep: number): void {
    if (keep < this.lm.length) this.lm.crop(keep);
  }
}
