/**
 * Build the app once before the tests that read its output or serve its renderer.
 * SPECDEC_SKIP_BUILD=1 skips it, for running engine/CLI tests while the UI is mid-edit.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export default function setup(): void {
  if (process.env.SPECDEC_SKIP_BUILD === '1') return;
  const root = join(import.meta.dirname, '..');
  execFileSync(join(root, 'node_modules', '.bin', 'electron-vite'), ['build'], {
    cwd: root,
    stdio: 'pipe',
  });
}
