/**
 * Choosing onnxruntime's execution provider. `auto` tries what this platform's onnxruntime-node
 * offers, in the order CUDA, DirectML, CoreML, WebGPU, CPU, and keeps each failed attempt's
 * reason so the user sees why ("cuda: Failed to load shared library; using cpu").
 *
 * Outputs (logits, KV cache) always come back to JavaScript memory (onnxruntime's default output
 * location), so the KV-cache handling (crop by copy) is the same on every provider.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';

// Failed provider attempts are reported through our own messages; onnxruntime's native log would
// print each of them to stderr as well.
ort.env.logLevel = 'fatal';

import {
  EXECUTION_PROVIDERS,
  type ExecutionProvider,
  type ExecutionProviderChoice,
} from '../../shared/decoding';
export { EXECUTION_PROVIDERS, type ExecutionProvider, type ExecutionProviderChoice };
const AUTO_ORDER: ExecutionProvider[] = ['cuda', 'dml', 'coreml', 'webgpu', 'cpu'];

export interface ProviderSession {
  session: ort.InferenceSession;
  provider: ExecutionProvider;
  /** "name: reason" for each provider tried before the one in use */
  failed: string[];
}

/** providers this build of onnxruntime-node knows, in auto's order */
export function candidateProviders(): ExecutionProvider[] {
  const known = new Set(ort.listSupportedBackends().map((b) => b.name));
  return AUTO_ORDER.filter((ep) => ep === 'cpu' || known.has(ep));
}

let sharedLibraries: string | null = null;
function linuxHasLibrary(name: string): boolean {
  sharedLibraries ??= (() => {
    try {
      return execFileSync('ldconfig', ['-p'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
    } catch {
      return '';
    }
  })();
  const extra = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  return sharedLibraries.includes(name) || extra.some((dir) => existsSync(join(dir, name)));
}

/**
 * Why a provider cannot work on this machine, found without trying it (trying WebGPU without
 * Vulkan prints native warnings), or null when it is worth a try.
 */
export function providerUnavailable(provider: ExecutionProvider): string | null {
  if (process.platform !== 'linux') return null;
  if (provider === 'cuda') {
    const binDir = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
    const bin = join(binDir, 'bin', 'napi-v6', 'linux', process.arch);
    if (!existsSync(join(bin, 'libonnxruntime_providers_cuda.so'))) {
      return "onnxruntime-node's CUDA provider is not installed (a plain `npm install` with internet on Linux x64 fetches it)";
    }
    if (!linuxHasLibrary('libcudart.so.12'))
      return 'libcudart.so.12 not found (install CUDA 12 and cuDNN 9)';
  }
  if (provider === 'webgpu' && !linuxHasLibrary('libvulkan.so.1')) {
    return 'libvulkan.so.1 not found (WebGPU on Linux needs Vulkan drivers)';
  }
  return null;
}

export async function createSession(
  path: string,
  choice: ExecutionProviderChoice,
  options: ort.InferenceSession.SessionOptions,
): Promise<ProviderSession> {
  const order = choice === 'auto' ? candidateProviders() : [choice];
  const failed: string[] = [];
  for (const provider of order) {
    const unavailable = providerUnavailable(provider);
    if (unavailable) {
      failed.push(`${provider}: ${unavailable}`);
      if (choice !== 'auto') throw Object.assign(new Error(unavailable), { failed });
      continue;
    }
    try {
      const session = await ort.InferenceSession.create(path, {
        ...options,
        executionProviders: [provider],
      });
      return { session, provider, failed };
    } catch (err) {
      const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
      failed.push(`${provider}: ${reason}`);
      if (choice !== 'auto') throw Object.assign(new Error(reason), { failed });
    }
  }
  throw Object.assign(new Error(failed.join('; ')), { failed });
}

/** "cuda: ...; using cpu" for the user, or null when the first choice worked */
export function describeFallback(s: ProviderSession): string | null {
  return s.failed.length === 0 ? null : `${s.failed.join('; ')}; using ${s.provider}`;
}
