/**
 * `npm run bench:gpu [-- --ep webgpu|cuda] [--max-new-tokens N] [--k 1,2,3,4] [--repeats N] [--json]`:
 * on a GPU provider, the greedy baseline and a K sweep with the KV cache in host memory (every
 * pass copies it down and up) against the cache kept on the device, side by side and
 * interleaved, with the CPU as the reference for time and tokens; medians of the repeats, the
 * ratios, and the host<->device bytes per pass of each. One command, so that it runs unchanged
 * on a machine with an NVIDIA GPU (CUDA 12), or any Vulkan/Metal/D3D12 GPU (WebGPU).
 *
 * On CUDA, onnxruntime-node 1.30 cannot leave outputs on the device (its binding keeps only
 * WebGPU buffers), so only the host-resident cache is measured there and the table says why.
 */
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import Table from 'cli-table3';
import { Command, Option } from 'commander';
import { candidateProviders, providerUnavailable } from '../src/core/model/executionProvider';
import {
  benchCacheVariants,
  configName,
  variantName,
  type VariantResult,
} from '../src/cli/cacheBench';
import { formatBytes } from '../src/shared/format';
import type { ExecutionProvider } from '../src/shared/decoding';

const ROOT = resolve(import.meta.dirname, '..');
const PAIR = join(ROOT, 'resources', 'models', 'brown-pair');
const PROMPT = 'Artificial intelligence is rapidly transforming our world by';
const GPU_PROVIDERS = ['cuda', 'webgpu'] as const;

const opts = new Command()
  .name('bench:gpu')
  .addOption(
    new Option('--ep <provider>', 'the GPU provider (default: cuda, else webgpu)').choices(
      GPU_PROVIDERS,
    ),
  )
  .option('--target <dir>', 'target model folder', join(PAIR, 'target'))
  .option('--draft <dir>', 'draft model folder', join(PAIR, 'draft'))
  .option('--max-new-tokens <n>', 'new tokens per run', '100')
  .option('--k <list>', 'draft lengths', '1,2,3,4')
  .option('--repeats <n>', 'measured repeats', '3')
  .option('--json', 'print one JSON document instead of the table')
  .parse()
  .opts<{
    ep?: (typeof GPU_PROVIDERS)[number];
    target: string;
    draft: string;
    maxNewTokens: string;
    k: string;
    repeats: string;
    json?: boolean;
  }>();

function chooseGpu(): ExecutionProvider {
  const offered = new Set(candidateProviders());
  const why = (ep: ExecutionProvider) =>
    offered.has(ep) ? providerUnavailable(ep) : 'not in this build of onnxruntime-node';
  if (opts.ep) {
    const reason = why(opts.ep);
    if (reason) fail(`${opts.ep} cannot run here: ${reason}.`);
    return opts.ep;
  }
  const found = GPU_PROVIDERS.find((ep) => why(ep) === null);
  if (!found) {
    fail(
      `no GPU provider here (${GPU_PROVIDERS.map((ep) => `${ep}: ${why(ep)}`).join('; ')}). For a software check: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json npm run bench:gpu -- --ep webgpu --max-new-tokens 20 --repeats 1`,
    );
  }
  return found;
}

function fail(message: string): never {
  process.stderr.write(`bench:gpu: ${message}\n`);
  process.exit(2);
}

const ep = chooseGpu();
const ks = opts.k.split(',').map(Number);
const configs = [null, ...ks];
const log = (line: string) => void process.stderr.write(line + '\n');
log(`bench:gpu on ${ep}: loading the pair three ways (cpu, ${ep} host cache, ${ep} device cache)`);
const { variants: results, rssAfterRepeat } = await benchCacheVariants({
  target: opts.target,
  draft: opts.draft,
  prompt: PROMPT,
  maxNewTokens: Number(opts.maxNewTokens),
  configs,
  repeats: Number(opts.repeats),
  variants: [
    { ep, kvLocation: 'host' },
    { ep, kvLocation: 'device' },
  ],
  log,
});
const [cpu, host, device] = results as [VariantResult, VariantResult, VariantResult];
const machine = `${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, node ${process.version}`;

if (opts.json) {
  const doc = {
    date: new Date().toISOString(),
    machine,
    ep,
    vulkanDriver: process.env.VK_ICD_FILENAMES ?? null,
    target: opts.target,
    draft: opts.draft,
    maxNewTokens: Number(opts.maxNewTokens),
    repeats: Number(opts.repeats),
    variants: results.map((r) => ({ name: variantName(r.variant), ...r })),
    rssAfterRepeat,
  };
  process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
} else {
  const out = (s = '') => void process.stdout.write(s + '\n');
  out(`SpecDec Studio GPU benchmark: ${new Date().toISOString().slice(0, 10)}, ${machine}`);
  out(
    `${ep}${process.env.VK_ICD_FILENAMES ? ` (Vulkan driver ${process.env.VK_ICD_FILENAMES})` : ''}; pair ${opts.target} + ${opts.draft}; ${opts.maxNewTokens} new tokens, greedy, medians of ${opts.repeats}`,
  );
  for (const r of results)
    if (r.unavailable) out(`${variantName(r.variant)}: not measured (${r.unavailable})`);
  const table = new Table({
    head: [
      'run',
      'cpu s',
      `${ep} host-cache s`,
      `${ep} device-cache s`,
      'host / device',
      'cache bytes/pass host -> device',
      'read bytes/pass host -> device',
      'tokens = cpu',
    ],
    style: { head: [], border: [] },
  });
  const s = (r: VariantResult, name: string) => r.runs[name]?.timeS;
  const f = (v: number | undefined, d = 3) => (v === undefined ? '-' : v.toFixed(d));
  const bytes = (r: VariantResult, name: string, key: 'cacheBytesPerPass' | 'readBytesPerPass') => {
    const t = r.runs[name]?.transfer;
    return t ? formatBytes(t[key]) : '-';
  };
  for (const k of configs) {
    const name = configName(k);
    const ratio = s(host, name) !== undefined && s(device, name) !== undefined;
    table.push([
      name,
      f(s(cpu, name)),
      f(s(host, name)),
      f(s(device, name)),
      ratio ? `${(s(host, name)! / s(device, name)!).toFixed(2)}x` : '-',
      `${bytes(host, name, 'cacheBytesPerPass')} -> ${bytes(device, name, 'cacheBytesPerPass')}`,
      `${bytes(host, name, 'readBytesPerPass')} -> ${bytes(device, name, 'readBytesPerPass')}`,
      [host, device]
        .map((r) => (r.runs[name] ? (r.runs[name].sameTokens ? 'yes' : 'NO') : '-'))
        .join(' / '),
    ]);
  }
  out(table.toString());
  const last = configName(ks.at(-1) ?? null);
  const was = host.runs[last]?.transfer?.cacheBytesPerPass;
  const now = device.runs[last]?.transfer?.cacheBytesPerPass;
  out(
    `process memory (RSS) after each repeat: ${rssAfterRepeat.map((b) => formatBytes(b)).join(', ')}${process.env.VK_ICD_FILENAMES?.includes('swiftshader') ? ' (SwiftShader: device memory is process memory, so leaked device tensors would show here)' : ''}`,
  );
  if (was !== undefined && now !== undefined)
    out(
      `${last}: cache bytes per pass: ${formatBytes(now)} (was ${formatBytes(was)} with the cache in host memory)`,
    );
}
