/**
 * The provider probe's verdicts, kept between runs in a JSON file (probeFiles' cacheFile) under a
 * key of everything a verdict depends on, so a machine is probed once per model and driver set-up.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ExecutionProvider, ProviderTrial, Q4Compute } from '../../shared/decoding';
import type { ModelFolder } from './modelFolder';

function onnxruntimeVersion(): string {
  const require = createRequire(import.meta.url);
  const pkg = JSON.parse(
    readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8'),
  ) as {
    version: string;
  };
  return pkg.version;
}

/** What a provider's verdict depends on besides the model: the runtime and the drivers it sees. */
const DRIVER_ENV = [
  'VK_ICD_FILENAMES',
  'VK_DRIVER_FILES',
  'CUDA_VISIBLE_DEVICES',
  'LD_LIBRARY_PATH',
  'DISPLAY',
  'WAYLAND_DISPLAY',
];

/**
 * The key of a probe's verdict: the model file as it is on disk, the providers tried and where
 * the cache was kept on them, the CPU threads, how the CPU computed 4-bit products (int8
 * activations time differently from float32), and what the runtime and its drivers see.
 */
export function cacheKey(
  folder: ModelFolder,
  providers: readonly ExecutionProvider[],
  deviceCache: readonly ExecutionProvider[],
  cpuThreads: number,
  q4Compute: Q4Compute,
): string {
  const st = statSync(folder.onnxPath);
  const parts = {
    ort: onnxruntimeVersion(),
    platform: `${process.platform}-${process.arch}`,
    model: [folder.onnxPath, st.size, st.mtimeMs],
    providers,
    deviceCache,
    cpuThreads,
    q4Compute,
    env: DRIVER_ENV.map((k) => process.env[k] ?? ''),
  };
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

/** The cache file's contents: each key's trials. */
export type CachedTrials = Record<string, ProviderTrial[]>;

/** The verdicts kept so far (none when the file is missing or unreadable). */
export function readCache(file: string | undefined): CachedTrials {
  if (!file) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as CachedTrials;
  } catch {
    return {}; // missing or unreadable: probe again
  }
}
