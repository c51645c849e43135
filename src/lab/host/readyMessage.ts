/** The host's first message: the embedded pair by name and context, and where downloads go. */
import { basename, dirname } from 'node:path';
import { contextLengthOf } from '../../core/model/modelFolder';
import type { HostMessage } from '../../shared/protocol';

export function readyMessage(
  embeddedPair: { target: string; draft: string },
  cacheDir: string,
): HostMessage {
  const contexts = [embeddedPair.target, embeddedPair.draft].map(contextLengthOf);
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
