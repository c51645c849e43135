/**
 * Splits the token list into fixed-size chunks, reusing the previous chunk objects whose tokens
 * are all the same objects: during a live run only the last chunk changes from frame to frame,
 * so the view re-checks one chunk instead of every token (a 1,000-token run has ~1,800 spans).
 */
import type { StreamToken } from './stream';

export const CHUNK_SIZE = 64;

export interface TokenChunk {
  /** chunk number: stable key */
  id: number;
  /** index of the first token */
  start: number;
  tokens: readonly StreamToken[];
}

export function chunkTokens(
  tokens: readonly StreamToken[],
  previous: readonly TokenChunk[],
  size = CHUNK_SIZE,
): TokenChunk[] {
  const chunks: TokenChunk[] = [];
  for (let start = 0, id = 0; start < tokens.length; start += size, id++) {
    const end = Math.min(tokens.length, start + size);
    const old = previous[id];
    let same = old !== undefined && old.start === start && old.tokens.length === end - start;
    for (let j = 0; same && j < end - start; j++) same = old!.tokens[j] === tokens[start + j];
    chunks.push(same ? old! : { id, start, tokens: tokens.slice(start, end) });
  }
  return chunks;
}
