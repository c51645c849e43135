/**
 * What the step detail view says about one verified position of a run, from the run's own
 * events: the context before it (for the engine's probe), what was drafted there and how the
 * target judged it (for sampling: p, q, min(1, p/q) and the uniform draw it was compared with).
 * Pure: unit-tested on real engine events.
 */
import type { EngineEvent } from '../../../shared/events';

export interface PositionFacts {
  /** sequence position (prompt included) */
  position: number;
  step: number;
  /** prompt and output tokens before the position */
  context: number[];
  /** the token drafted at the position, if any */
  drafted: number | null;
  draftedText: string | null;
  /** what the run emitted at the position (null when the run ended before it) */
  emitted: number | null;
  emittedText: string | null;
  emittedKind: string | null;
  verdict: 'accepted' | 'rejected' | null;
  /** the target's and the draft's probability of the drafted token, as the run reported them */
  p: number | null;
  q: number | null;
  /** the uniform draw the acceptance test used (sampling only) */
  draw: number | null;
}

/** The facts at `position` of the run; null when the run never verified or emitted there. */
export function positionFacts(
  events: readonly EngineEvent[],
  position: number,
): PositionFacts | null {
  const start = events.find((e) => e.type === 'run-start');
  if (!start || start.type !== 'run-start') return null;
  const sequence: number[] = [...start.promptTokenIds];
  let facts: PositionFacts | null = null;
  const drafts = new Map<string, { tokenId: number; text: string; prob: number | null }>();
  for (const e of events) {
    if (e.type === 'draft') {
      drafts.set(`${e.step}:${e.index}`, { tokenId: e.tokenId, text: e.text, prob: e.draftProb });
    } else if (e.type === 'verify') {
      // the drafts of this step sit at positions first .. first + K - 1
      const first = sequence.length;
      const i = position - first;
      if (i < 0 || i >= e.draftedTokenIds.length) continue;
      const verdict = e.verdicts[i];
      if (verdict === 'unchecked' || verdict === undefined) continue;
      const d = drafts.get(`${e.step}:${i}`);
      facts = {
        position,
        step: e.step,
        // the draft at index i followed the step's earlier drafts (accepted, as it was checked)
        context: [...sequence.slice(0, first), ...e.draftedTokenIds.slice(0, i)],
        drafted: e.draftedTokenIds[i]!,
        draftedText: d?.text ?? null,
        emitted: null,
        emittedText: null,
        emittedKind: null,
        verdict,
        p: e.targetProbs?.[i] ?? null,
        q: d?.prob ?? null,
        draw: e.draws?.[i] ?? null,
      };
    } else if (e.type === 'emit') {
      if (e.position === position) {
        facts ??= {
          position,
          step: e.step,
          context: sequence.slice(0, position),
          drafted: null,
          draftedText: null,
          emitted: null,
          emittedText: null,
          emittedKind: null,
          verdict: null,
          p: null,
          q: null,
          draw: null,
        };
        facts.emitted = e.tokenId;
        facts.emittedText = e.text;
        facts.emittedKind = e.kind;
        return facts;
      }
      sequence[e.position] = e.tokenId;
    }
  }
  return facts;
}
