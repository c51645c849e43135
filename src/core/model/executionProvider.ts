/**
 * onnxruntime's execution providers on this machine: which this build offers, which cannot work
 * here (found without trying them), and a session on the one chosen (providerProbe.ts chooses).
 *
 * Outputs come back to JavaScript memory (onnxruntime's default output location) except on the
 * providers whose outputs onnxruntime-node can leave on the device (`deviceOutputs`), where
 * kvCache.ts keeps the KV cache there.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

/**
 * Whether onnxruntime-node can leave this provider's outputs on the device
 * (`preferredOutputLocation: 'gpu-buffer'`). Its binding (1.30) wraps only WebGPU buffers as
 * tensors; CUDA's, DirectML's and CoreML's outputs are always copied to host memory. Its
 * gpu-buffer tensors cannot be read back either (their `download` throws and aborts the process),
 * so the engine never calls getData() on them: the head graph's CPU outputs (deviceGraphs.ts) do
 * the reading.
 */
export function deviceOutputs(provider: ExecutionProvider): boolean {
  return provider === 'webgpu';
}

/** A session on one provider (providerProbe.ts decides which), from a file or model bytes. */
export async function createSession(
  path: string | Uint8Array,
  provider: ExecutionProvider,
  options: ort.InferenceSession.SessionOptions,
): Promise<ort.InferenceSession> {
  if (provider !== 'cpu') quietGpuStart();
  const all = { ...options, executionProviders: [provider] };
  return typeof path === 'string'
    ? ort.InferenceSession.create(path, all)
    : ort.InferenceSession.create(path, all);
}

/**
 * Vulkan's window-system layers print "error: XDG_RUNTIME_DIR is invalid or not set" when the
 * variable is missing (a service, ssh, a container); a private folder of ours satisfies them.
 */
function quietGpuStart(): void {
  if (process.platform !== 'linux' || process.env.XDG_RUNTIME_DIR) return;
  try {
    process.env.XDG_RUNTIME_DIR = mkdtempSync(join(tmpdir(), 'specdec-runtime-'));
  } catch {
    // only a warning is at stake
  }
}
