/** Locations inside the repository (the CLI runs from source through tsx). */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const EMBEDDED_PAIR = {
  target: join(REPO_ROOT, 'resources', 'models', 'brown-pair', 'target'),
  draft: join(REPO_ROOT, 'resources', 'models', 'brown-pair', 'draft'),
};
