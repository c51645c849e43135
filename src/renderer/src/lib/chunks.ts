/**
 * Splits the token list into chunks, each drawn as its own (inline) element, reusing the previous
 * chunk objects whose tokens are all the same objects. During a live run only the last chunk
 * changes from frame to frame, so the view re-checks one chunk instead of every token (a
 * 1,000-token run has ~1,800 spans). The chunks are inline so the text flows across them (a
 * block per chunk left half-lines at each chunk's end); the stream box's strict containment
 * keeps each frame's layout inside the stream.
 *
 * A chunk ends where the text reads as if it could: after output text that ends a sentence or a
 * line, once it holds `min` tokens; a run with no such place (a loop) ends at `max`. The rule
 * reads only the chunk's own tokens, so appending never moves an earlier chunk's end; a verdict
 * on a pending draft can, and the chunks after it are then drawn anew.
 */
import type { StreamToken } from './stream';

export const CHUNK_MIN = 48;
export const CHUNK_MAX = 96;

export interface TokenChunk {
  /** chunk number: stable key */
  id: number;
  /** index of the first token */
  start: number;
  tokens: readonly StreamToken[];
}

/** output text (not the prompt, a pending or a rejected draft) that ends a sentence or a line */
const SENTENCE_END = /[.!?]["')\]]?\s*$|\n\s*$/;
function endsSentence(token: StreamToken): boolean {
  return (
    token.kind !== 'prompt' &&
    token.kind !== 'draft' &&
    token.kind !== 'rejected' &&
    SENTENCE_END.test(token.text)
  );
}

/** index one past the chunk that starts at `start` */
function chunkEnd(tokens: readonly StreamToken[], start: number, min: number, max: number): number {
  const last = Math.min(tokens.length, start + max);
  for (let j = start + min - 1; j < last; j++) if (endsSentence(tokens[j]!)) return j + 1;
  return last;
}

export function chunkTokens(
  tokens: readonly StreamToken[],
  previous: readonly TokenChunk[],
  min = CHUNK_MIN,
  max = CHUNK_MAX,
): TokenChunk[] {
  const chunks: TokenChunk[] = [];
  for (let start = 0, id = 0; start < tokens.length; id++) {
    const end = chunkEnd(tokens, start, min, max);
    const old = previous[id];
    let same = old !== undefined && old.start === start && old.tokens.length === end - start;
    for (let j = 0; same && j < end - start; j++) same = old!.tokens[j] === tokens[start + j];
    chunks.push(same ? old! : { id, start, tokens: tokens.slice(start, end) });
    start = end;
  }
  return chunks;
}

/**
 * Rejected drafts folded into one marker per step: in a K=8 stream most of the text is
 * struck-through drafts, and folding them leaves the accepted text readable. Per chunk: the
 * first rejected draft of each step's run ("head", with how many it stands for) and the ones
 * it hides, by index in the whole stream. Chunks whose folds did not change keep the same
 * object, so a frame that adds tokens re-checks only the last chunk.
 */
export interface ChunkFolds {
  /** token index -> rejected drafts the marker stands for */
  readonly heads: ReadonlyMap<number, number>;
  readonly hidden: ReadonlySet<number>;
  /** what the folds are, to reuse an unchanged chunk's object */
  readonly signature: string;
}

export const NO_FOLDS: ChunkFolds = { heads: new Map(), hidden: new Set(), signature: '' };

/**
 * Fold every step's rejected drafts except the steps in `open`; previous: the last result, to
 * reuse unchanged chunks' objects.
 */
export function foldRejected(
  tokens: readonly StreamToken[],
  chunks: readonly TokenChunk[],
  open: ReadonlySet<number>,
  previous: readonly ChunkFolds[],
): ChunkFolds[] {
  const heads = new Map<number, number>();
  const hidden = new Set<number>();
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind !== 'rejected' || t.step === null || open.has(t.step)) continue;
    let end = i + 1;
    while (end < tokens.length && tokens[end]!.kind === 'rejected' && tokens[end]!.step === t.step)
      end++;
    heads.set(i, end - i);
    for (let j = i + 1; j < end; j++) hidden.add(j);
    i = end - 1;
  }
  return chunks.map((chunk, n) => {
    const end = chunk.start + chunk.tokens.length;
    const own = new Map<number, number>();
    const ownHidden = new Set<number>();
    const parts: string[] = [];
    for (let i = chunk.start; i < end; i++) {
      const count = heads.get(i);
      if (count !== undefined) {
        own.set(i, count);
        parts.push(`${i}:${count}`);
      } else if (hidden.has(i)) {
        ownHidden.add(i);
        parts.push(`${i}h`);
      }
    }
    const signature = parts.join(',');
    if (signature === '') return NO_FOLDS;
    const old = previous[n];
    return old !== undefined && old.signature === signature
      ? old
      : { heads: own, hidden: ownHidden, signature };
  });
}
