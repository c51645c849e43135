/**
 * Speculative decoding with a token tree: a static shape (`--tree 3,2,1`) or a node budget
 * (`--tree-budget 16`). The draft model drafts the tree (treeDrafter.ts), one target pass
 * verifies it, under a tree mask where the target's graph takes one (maskVerifier.ts) or as a
 * batch row per root-to-leaf path (rowsVerifier.ts), the accepted path's tokens and the target's
 * own token after it are emitted, and both caches keep only the accepted path, so the next step
 * starts where a chain would. Greedy, the walk follows the target's argmax (treeWalk.ts); sampled
 * (static shapes), recursive rejection sampling over children drawn without replacement
 * (treeSampling.ts); either under the repetition controls, each row with its own path. Under
 * controlled acceptance (greedy static shapes) the oracle chooses each node's children from the
 * draft's ranking (treeOracle.ts). The counts, acceptance by draft rank among them, are observed
 * from the events (runStats.ts).
 */
import type { EngineEvent, TreeVerifyMode } from '../../../shared/events';
import {
  MAX_TREE_DEPTH,
  treeBudgetProblem,
  treeShapeProblem,
  type TreeShape,
} from '../../../shared/treeShape';
import { treeAcceptanceProblem } from '../../../shared/treeAcceptance';
import { SpecDecError } from '../../errors';
import type { ModelPair } from '../../model/pair';
import { DecodeRun, type RunDetails, type RunOptions } from '../decodeRun';
import { applyRepetition } from '../repetition';
import { sample, seededRandom, warp } from '../sampling';
import type { OracleSettings } from '../strategies/drafters/oracleDrafter';
import { checkAcceptance } from '../strategies/registry';
import { MaskTreeVerifier } from './maskVerifier';
import { RowsTreeVerifier } from './rowsVerifier';
import { TreeDrafter, type TreePlan } from './treeDrafter';
import { TreeOracle } from './treeOracle';
import { sampledWalker, type ResidualUpdate, type TreeSampler } from './treeSampling';
import { greedyWalker, withRepetition } from './treeWalk';

export interface TreeRunOptions extends RunOptions {
  /** a static shape (`--tree 3,2,1`); or */
  shape?: TreeShape;
  /** a node budget (`--tree-budget N`): the N nodes of highest path probability */
  budget?: number;
  /** how the target verifies: auto (the mask where the graph takes one, else rows), mask, rows */
  verify?: TreeVerifyChoice;
  /** sampling: the target's distribution after a rejection; only the statistical test replaces it */
  residual?: ResidualUpdate;
  /**
   * controlled acceptance (greedy static shapes): the target's token among a node's children by
   * the tree oracle's rank rule (src/shared/treeAcceptance.ts), from this baseline, seeded
   */
  oracle?: OracleSettings;
}

export type TreeVerifyChoice = TreeVerifyMode | 'auto';

/** Why a tree cannot run on this pair with these options; throws a SpecDecError saying what to do. */
export function checkTreeRun(pair: ModelPair, options: TreeRunOptions): void {
  const { shape, budget } = options;
  if ((shape === undefined) === (budget === undefined))
    throw new SpecDecError(
      'BAD_ARGUMENT',
      'A token tree has a shape or a node budget (one of them).',
    );
  const problem = shape ? treeShapeProblem(shape) : treeBudgetProblem(budget!);
  if (problem)
    throw new SpecDecError(
      'BAD_ARGUMENT',
      `Tree ${shape ? shape.join(',') : `budget ${budget}`}: ${problem}.`,
    );
  if (options.sampling && budget !== undefined)
    throw new SpecDecError('BAD_ARGUMENT', TREE_BUDGET_SAMPLING_REFUSAL, ['temperature']);
  if (options.oracle) {
    checkAcceptance(options.oracle.acceptance);
    const refusal = treeAcceptanceProblem({
      sampling: options.sampling !== undefined,
      budgets: budget !== undefined,
    });
    if (refusal) throw new SpecDecError('BAD_ARGUMENT', refusal);
  }
  if (!pair.draft) throw new SpecDecError('BAD_ARGUMENT', 'A token tree needs a draft model.');
  for (const [role, lm] of [
    ['target', pair.target.lm],
    ['draft', pair.draft.lm],
  ] as const) {
    // the draft always batches a depth's nodes as rows; the target does where it verifies so
    if (!lm.takesBatchRows && (role === 'draft' || verifyMode(pair, options) === 'rows'))
      throw new SpecDecError(
        'BAD_ARGUMENT',
        `The ${role}'s graph takes one batch row only (input_ids is [1, sequence]), and a token tree runs its paths as rows. Export the model with a dynamic batch dimension.`,
      );
  }
}

/** the verification a tree run gets: mask where the target's graph takes one, unless told */
export function verifyMode(pair: ModelPair, options: TreeRunOptions): TreeVerifyMode {
  const choice = options.verify ?? 'auto';
  const mask = pair.target.lm.takesTreeMask;
  if (choice === 'mask' && !mask)
    throw new SpecDecError(
      'BAD_ARGUMENT',
      `The target cannot verify a tree in one pass under its mask: ${pair.target.lm.treeMaskNote}. Verify the tree as rows (--tree-verify rows or auto).`,
    );
  return choice === 'auto' ? (mask ? 'mask' : 'rows') : choice;
}

/** the deepest a tree may grow: a shape's depth, a budget's N up to MAX_TREE_DEPTH */
function treeDepth(plan: TreePlan): number {
  return 'shape' in plan ? plan.shape.length : Math.min(plan.budget, MAX_TREE_DEPTH);
}

export const TREE_BUDGET_SAMPLING_REFUSAL =
  "A node budget keeps the draft's most probable paths, which are not draws that an exact sampling rule can verify: sample with a static shape (--tree 3,2,1) or run the budget greedy (temperature 0).";

export class TreeRun extends DecodeRun {
  private readonly plan: TreePlan;
  private readonly drafter: TreeDrafter;
  private readonly verifier: RowsTreeVerifier | MaskTreeVerifier;
  private readonly gap = new Float64Array(1);
  /** sampled runs: the warp and the run's seeded random source, shared by drafter and walk */
  private readonly sampler: TreeSampler | null;
  /** controlled acceptance: the oracle choosing children; null for real drafting */
  private readonly oracle: TreeOracle | null;
  private readonly acceptanceTarget: number | null;

  constructor(pair: ModelPair, options: TreeRunOptions) {
    checkTreeRun(pair, options);
    const plan: TreePlan = options.shape
      ? { shape: [...options.shape] }
      : { budget: options.budget! };
    // K is the deepest the tree may grow: the shape's depth, or a budget's (at most 8)
    super(pair, 'speculative', treeDepth(plan), options);
    this.plan = plan;
    this.sampler = this.sampling
      ? {
          params: this.sampling,
          random: this.random,
          ...(options.residual ? { residual: options.residual } : {}),
        }
      : null;
    const { oracle } = options;
    this.acceptanceTarget = oracle?.acceptance ?? null;
    this.oracle = oracle
      ? new TreeOracle({
          acceptance: oracle.acceptance,
          reference: [...this.promptTokenIds, ...oracle.baselineTokenIds],
          // its own draws, as the chain oracle's: a 1-wide tree draws exactly as a chain does
          random: seededRandom(oracle.seed),
          endsText: (id) => pair.eosTokenIds.includes(id),
        })
      : null;
    this.drafter = new TreeDrafter(
      pair.draft!.lm,
      pair.eosTokenIds,
      this.repetition,
      this.sampler,
      this.oracle,
    );
    const walk = this.sampler
      ? sampledWalker(this.sampler, this.reportProbabilities)
      : greedyWalker(this.reportProbabilities);
    const walker = this.repetition ? withRepetition(walk, this.repetition) : walk;
    this.verifier =
      verifyMode(pair, options) === 'mask'
        ? new MaskTreeVerifier(this.reportProbabilities, walker)
        : new RowsTreeVerifier(this.reportProbabilities, walker);
  }

  protected override details(): RunDetails {
    const nodesPerStep = this.stats.kPerStep();
    const ranks = this.stats.rankCounts();
    return {
      policy: 'fixed',
      drafter: 'model',
      kPerStep: nodesPerStep,
      acceptanceByPosition: this.stats.acceptanceByPosition(),
      acceptanceTarget: this.acceptanceTarget,
      draftModelAgreement: this.oracle?.draftModelAgreement() ?? null,
      acceptedPerStepHistogram: this.stats.acceptedPerStepHistogram(this.k ?? 0),
      draftTokensTested: this.stats.draftTokensTested(),
      tree: {
        ...('shape' in this.plan ? { shape: [...this.plan.shape] } : { budget: this.plan.budget }),
        verify: this.verifier.mode,
        nodesPerStep,
        ...(ranks ? { ranks } : {}),
        ...(this.oracle ? { draftModelRanks: this.oracle.draftModelRanks() } : {}),
      },
    };
  }

  protected async runStep(out: EngineEvent[]): Promise<void> {
    const { runId, step, context } = this;
    const target = this.pair.target.lm;
    const len = context.length;
    // as a chain: never past max new tokens (the target adds one token) or past the context
    const depth = Math.min(this.k ?? 0, this.remaining - 1, this.pair.nPositions - len - 1);
    if (depth <= 0) {
      const { token, prob } = await this.targetOnly();
      this.emit(out, token, 'target', null, prob);
      this.drafter.forget(context.length - 1);
      if (target.length > context.length - 1) target.crop(context.length - 1);
      return;
    }

    const tree = await this.drafter.draft(context, this.plan, depth, this.reportProbabilities);
    tree.nodes.forEach((node, index) =>
      out.push({
        type: 'draft',
        runId,
        step,
        index,
        position: len + node.depth - 1,
        tokenId: node.tokenId,
        text: this.pair.tokenizer.tokenText(node.tokenId),
        draftProb: node.draftProb,
      }),
    );

    const verdict = await this.verifier.verify(target, context, tree);
    out.push({
      type: 'verify',
      runId,
      step,
      draftedTokenIds: tree.nodes.map((n) => n.tokenId),
      verdicts: verdict.verdicts,
      targetTokenIds: verdict.targetTokenIds,
      targetProbs: verdict.targetProbs,
      minLogitMargin: verdict.margin,
      tree: {
        verify: this.verifier.mode,
        nodes: tree.nodes.map((n, i) => ({
          parent: n.parent,
          depth: n.depth,
          tokenId: n.tokenId,
          draftProb: n.draftProb,
          verdict: verdict.verdicts[i]!,
        })),
      },
    });

    let going = true;
    for (const node of verdict.accepted) {
      if (!going) break;
      const { tokenId, draftProb } = tree.nodes[node]!;
      going = this.emit(out, tokenId, 'accepted', draftProb, verdict.targetProbs?.[node] ?? null);
    }
    if (going) {
      const last = verdict.accepted.at(-1) ?? -1;
      const kind = tree.children(last).length > 0 ? 'correction' : 'bonus';
      this.emit(out, verdict.targetTokenIds.at(-1)!, kind, null, verdict.finalProb);
    }

    // Both caches keep the accepted path's row, cropped to what is final (the context minus its
    // pending token): the state a chain that accepted the same tokens would be in.
    const keep = context.length - 1;
    verdict.gather(keep);
    this.drafter.rollback(
      keep,
      verdict.accepted.map((node) => tree.nodes[node]!.tokenId),
    );
  }

  /** no room for a tree: the target's own token, as the baseline would pick or draw it */
  private async targetOnly(): Promise<{ token: number; prob: number | null }> {
    const { context } = this;
    const target = this.pair.target.lm;
    const plain = !this.sampler && !this.repetition;
    const logits = await target.forward(context.slice(target.length), plain ? {} : undefined);
    const last = logits.rows - 1;
    if (this.repetition) applyRepetition(logits.row(last), this.repetition, context);
    if (this.sampler) {
      const p = warp(logits.row(last), this.sampler.params);
      const token = sample(p, this.sampler.random);
      return { token, prob: p[token]! };
    }
    const token = logits.argmax(last, this.gap);
    return { token, prob: this.reportProbabilities ? logits.prob(last, token) : null };
  }
}
