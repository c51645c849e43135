/** Locations inside the repository (the CLI runs from source through tsx). */
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const EMBEDDED_PAIR = {
  target: join(REPO_ROOT, 'resources', 'models', 'brown-pair', 'target'),
  draft: join(REPO_ROOT, 'resources', 'models', 'brown-pair', 'draft'),
};

/** The platform's cache folder for Hub downloads (`--cache-dir` overrides it). */
export function defaultCacheDir(): string {
  const home = homedir();
  if (process.platform === 'win32')
    return join(
      process.env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'),
      'SpecDec Studio',
      'Cache',
    );
  if (process.platform === 'darwin') return join(home, 'Library', 'Caches', 'SpecDec Studio');
  return join(process.env.XDG_CACHE_HOME ?? join(home, '.cache'), 'specdec-studio');
}

/** The platform's data folder: serve's history and downloads, the provider probe's verdicts. */
export function defaultDataDir(): string {
  const home = homedir();
  if (process.platform === 'win32') return join(process.env.APPDATA ?? home, 'SpecDec Studio');
  if (process.platform === 'darwin')
    return join(home, 'Library', 'Application Support', 'SpecDec Studio');
  return join(process.env.XDG_DATA_HOME ?? join(home, '.local', 'share'), 'specdec-studio');
}
