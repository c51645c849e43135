/** The host's first message: the embedded pair by name and context, and where downloads go. */
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { HostMessage } from '../../shared/protocol';

export function readyMessage(
  embeddedPair: { target: string; draft: string },
  cacheDir: string,
): HostMessage {
  const contexts = [embeddedPair.target, embeddedPair.draft].map(contextOf);
  return {
    type: 'ready',
    embeddedPair: {
      target: label(embeddedPair.target),
      draft: label(embeddedPair.draft),
      context: contexts.includes(null) ? null : Math.min(...(contexts as number[])),
    },
    cacheDir,
  };
}

const label = (dir: string): string => `${basename(dirname(dir))}/${basename(dir)} (embedded)`;

/** a model folder's context from its config (null when it cannot be read: the run will say) */
function contextOf(dir: string): number | null {
  try {
    const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const n = c.n_positions ?? c.n_ctx ?? c.max_position_embeddings;
    return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}
