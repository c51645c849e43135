/**
 * A run's counts, observed from the events its loop emits (as vLLM's spec-decode metrics and
 * llama.cpp's speculative counters sit beside the loop) instead of counted inside it: new tokens
 * by kind, drafted and accepted tokens, tokens drafted per step, acceptance by position, the
 * accepted count of each verification step and the drafts the target actually tested; for token
 * trees, acceptance by draft rank, so every TreeRun user (a sweep, the app's step-by-step run)
 * gets it.
 */
import type { EngineEvent, RunMetrics } from '../../shared/events';
import { addRankCounts, emptyRankCounts, type RankCounts } from '../../shared/treeRanks';

/** the part of RunMetrics that is counted from events (the rest comes from the models) */
export type RunCounts = Pick<
  RunMetrics,
  | 'newTokens'
  | 'verificationSteps'
  | 'draftedTokens'
  | 'acceptedTokens'
  | 'corrections'
  | 'bonuses'
  | 'targetOnlyTokens'
>;

export class RunStats {
  private readonly tally: RunCounts = {
    newTokens: 0,
    verificationSteps: 0,
    draftedTokens: 0,
    acceptedTokens: 0,
    corrections: 0,
    bonuses: 0,
    targetOnlyTokens: 0,
  };
  private readonly drafted: number[] = [];
  /** steps whose i-th draft was checked, and those whose i-th draft was accepted */
  private readonly draftedAt: number[] = [];
  private readonly acceptedAt: number[] = [];
  private draftsThisStep = 0;
  /** verification steps by how many drafts they accepted */
  private readonly acceptedPerStep: number[] = [];
  /** drafts the verifier decided on (accepted or rejected), not those after a rejection */
  private tested = 0;
  /** token trees: acceptance by draft rank; null until a tree is verified */
  private ranks: RankCounts | null = null;

  observe(event: EngineEvent): void {
    switch (event.type) {
      case 'draft':
        this.draftsThisStep++;
        return;
      case 'verify': {
        const n = event.draftedTokenIds.length;
        const accepted = event.verdicts.filter((v) => v === 'accepted').length;
        this.tally.verificationSteps++;
        this.tally.draftedTokens += n;
        this.tally.acceptedTokens += accepted;
        this.acceptedPerStep[accepted] = (this.acceptedPerStep[accepted] ?? 0) + 1;
        this.tested += event.verdicts.filter((v) => v !== 'unchecked').length;
        if (event.tree) {
          // a tree's position is its depth: drafted there when the tree reached it, accepted
          // when the accepted path did
          const nodes = event.tree.nodes;
          addRankCounts((this.ranks ??= emptyRankCounts()), nodes);
          const depth = nodes.reduce((d, node) => Math.max(d, node.depth), 0);
          for (let i = 0; i < depth; i++) this.draftedAt[i] = (this.draftedAt[i] ?? 0) + 1;
          for (const node of nodes) {
            const i = node.depth - 1;
            if (node.verdict === 'accepted') this.acceptedAt[i] = (this.acceptedAt[i] ?? 0) + 1;
          }
          return;
        }
        for (let i = 0; i < n; i++) {
          this.draftedAt[i] = (this.draftedAt[i] ?? 0) + 1;
          if (event.verdicts[i] === 'accepted') this.acceptedAt[i] = (this.acceptedAt[i] ?? 0) + 1;
        }
        return;
      }
      case 'emit':
        this.tally.newTokens++;
        if (event.kind === 'correction') this.tally.corrections++;
        else if (event.kind === 'bonus') this.tally.bonuses++;
        else if (event.kind === 'target') this.tally.targetOnlyTokens++;
        return;
      case 'step-end':
        this.drafted.push(this.draftsThisStep);
        this.draftsThisStep = 0;
        return;
      default:
        return;
    }
  }

  get newTokens(): number {
    return this.tally.newTokens;
  }

  counts(): RunCounts {
    return { ...this.tally };
  }

  /** tokens drafted at each step */
  kPerStep(): number[] {
    return [...this.drafted];
  }

  /**
   * Verification steps by the drafts they accepted (vLLM's per-step acceptance): index = accepted
   * count, from 0 to at least `k`; the counts sum to the verification steps.
   */
  acceptedPerStepHistogram(k: number): number[] {
    const length = Math.max(k + 1, this.acceptedPerStep.length);
    return Array.from({ length }, (_, i) => this.acceptedPerStep[i] ?? 0);
  }

  /**
   * Drafts the target tested (llama.cpp's distinction from drafted): those its verdict decided,
   * accepted or rejected; a step's drafts after its first rejection were drafted but never tested.
   */
  draftTokensTested(): number {
    return this.tested;
  }

  /**
   * Token trees: at each draft rank, the positions where that choice was tested and where it was
   * the target's token (src/shared/treeRanks.ts); null when no tree was verified.
   */
  rankCounts(): RankCounts | null {
    return this.ranks
      ? { tested: [...this.ranks.tested], accepted: [...this.ranks.accepted] }
      : null;
  }

  /** share of steps whose i-th drafted token was accepted, for i = 0, 1, ... */
  acceptanceByPosition(): number[] {
    return this.draftedAt.map((d, i) => (this.acceptedAt[i] ?? 0) / d);
  }
}
