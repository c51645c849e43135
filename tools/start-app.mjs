#!/usr/bin/env node
// `npm start`: open the desktop app (electron-vite preview builds it first), or, where the
// Electron binary was never downloaded (`npm ci --ignore-scripts`, an offline install), say so
// and how to get it, instead of Electron's own "Electron uninstall" stack trace.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const electronDir = join(root, 'node_modules', 'electron');

/** the binary electron's own index.js would run, or null when it is not there */
function electronBinary() {
  const pathFile = join(electronDir, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const name = readFileSync(pathFile, 'utf8').trim();
  const dist = process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(electronDir, 'dist');
  const bin = join(dist, name);
  return existsSync(bin) ? bin : null;
}

if (electronBinary() === null) {
  process.stderr.write(
    [
      'SpecDec Studio: the Electron binary is not installed (an install with --ignore-scripts, or',
      'one without internet, skips its download).',
      '  fetch it:  npm install   (with internet), or: node node_modules/electron/install.js',
      '  or, without Electron:  npm run serve   opens the same app in a browser',
      '',
    ].join('\n'),
  );
  process.exit(1);
}
const cli = join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js');
const r = spawnSync(process.execPath, [cli, 'preview', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
