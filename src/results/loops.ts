/**
 * Whether a run's output falls into a repeating cycle ("... of the world of the world of the world"):
 * greedy decoding of a small model often does, and then acceptance and the best K describe the
 * loop (the draft learns the cycle), not the text. Found once here for the run rows (src/lab), the
 * CLI, the app and the report.
 */
import { wholePercent } from '../shared/format';

/** the longest cycle looked for, in tokens */
export const MAX_LOOP_PERIOD = 16;
/** a cycle counts once it covers this many tokens, and at least three periods */
export const MIN_LOOP_TOKENS = 8;

export interface Repetition {
  /** index in the output (0 = the first new token) where the cycle starts */
  start: number;
  /** tokens per cycle */
  period: number;
}

/**
 * Where the output first falls into a cycle: the earliest stretch in which every token repeats
 * the one a period before, covering at least three periods and MIN_LOOP_TOKENS tokens (the
 * shortest period on a tie); null if there is none. A loop that breaks for a token and resumes
 * ("the world of the world, the world of") still counts from where it first began.
 */
export function detectRepetition(ids: readonly number[]): Repetition | null {
  const n = ids.length;
  let best: Repetition | null = null;
  for (let period = 1; period <= MAX_LOOP_PERIOD && 3 * period <= n; period++) {
    const need = Math.max(3 * period, MIN_LOOP_TOKENS);
    let run = 0; // consecutive i with ids[i] === ids[i + period], ending at i
    for (let i = 0; i + period < n; i++) {
      run = ids[i] === ids[i + period] ? run + 1 : 0;
      const start = i - run + 1;
      if (run + period >= need) {
        if (!best || start < best.start) best = { start, period };
        break;
      }
    }
  }
  return best;
}

interface LoopRow {
  mode: string;
  k: number | null;
  repetition?: Repetition | null | undefined;
  acceptanceByPosition?: number[] | undefined;
  /** controlled acceptance (--acceptance): the oracle decides acceptance, not the text */
  acceptanceTarget?: number | null | undefined;
}

/**
 * What the loops of a sweep mean, in words, or null when no run looped: which runs, the cycle,
 * and (when acceptance by draft position collapses at the cycle's length) why acceptance
 * looks the way it does.
 */
export function loopNote(rows: readonly LoopRow[]): string | null {
  const looping = rows.filter((r) => r.repetition);
  if (looping.length === 0) return null;
  const cycles = [...new Set(looping.map((r) => `${r.repetition!.period}@${r.repetition!.start}`))];
  const first = looping[0]!.repetition!;
  const which =
    looping.length === rows.length
      ? `Every run's output (${rows.length} of ${rows.length}) falls into`
      : `${looping.length} of ${rows.length} runs' outputs fall into`;
  const cycle =
    cycles.length === 1
      ? `a ${first.period}-token cycle at new token ${first.start + 1}`
      : `a repeating cycle (${[...new Set(looping.map((r) => r.repetition!.period))].join(', ')} tokens long, from new token ${Math.min(...looping.map((r) => r.repetition!.start)) + 1})`;
  const keeps = looping.length === rows.length ? 'keeps' : 'keep';
  const spec = looping.filter((r) => r.mode === 'speculative');
  // Under controlled acceptance the oracle decides what is accepted, so a loop changes the text only.
  if (spec.length > 0 && spec.every((r) => r.acceptanceTarget != null))
    return `${which} ${cycle} and ${keeps} repeating it. Acceptance is controlled (--acceptance), so the loop does not change what is accepted or the speedups; only the text repeats.`;
  let text = `${which} ${cycle} and ${keeps} repeating it: acceptance and the best K then describe that loop, not open text. Repetition controls (no-repeat n-gram 3, say) break it.`;
  const longest = spec
    .filter(
      (r) => r.acceptanceTarget == null && (r.acceptanceByPosition?.length ?? 0) > first.period,
    )
    .sort((a, b) => (b.k ?? 0) - (a.k ?? 0))[0];
  const acc = longest?.acceptanceByPosition;
  if (acc && cycles.length === 1 && first.period >= 2) {
    const before = acc[first.period - 2]!;
    const at = acc[first.period - 1]!;
    if (at < 0.5 * before) {
      text += ` Acceptance by draft position at K=${longest.k} drops at position ${first.period}, the cycle's length (${wholePercent(before)} then ${wholePercent(at)}): within the loop the draft gets one token of each cycle wrong.`;
    }
  }
  return text;
}
