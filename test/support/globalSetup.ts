/**
 * Build the app once before the groups that read its output or serve its renderer (build, e2e).
 * SPECDEC_SKIP_BUILD=1 skips it, for running tests while the UI is mid-edit; a second group in
 * the same run finds it built (the variable is set in this, vitest's own, process).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export default function setup(): void {
  if (process.env.SPECDEC_SKIP_BUILD === '1') return;
  const root = join(import.meta.dirname, '..', '..');
  execFileSync(join(root, 'node_modules', '.bin', 'electron-vite'), ['build'], {
    cwd: root,
    stdio: 'pipe',
  });
  process.env.SPECDEC_SKIP_BUILD = '1';
}
