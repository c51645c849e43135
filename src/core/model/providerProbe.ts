/**
 * Which execution provider runs a model. `auto` means the fastest, measured: every provider
 * this machine might run is opened on the actual model in a short-lived child process
 * (providerProbeChild.ts), a few one-token passes are timed, and the fastest wins.
 *
 * A child process, because probing a GPU provider is where native code misbehaves: Dawn and
 * Vulkan drivers print warnings straight to stderr ("XDG_RUNTIME_DIR is invalid", "Vulkan
 * shaderUniform*ArrayDynamicIndexing required"), and a broken driver can crash the process.
 * The child's output goes to a log file; the user sees one line per model. The verdict is cached
 * per model file, onnxruntime version and driver environment, so the probe runs once.
 */
import { fork } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import {
  ProviderChoice,
  type ExecutionProvider,
  type ExecutionProviderChoice,
  type KvLocationChoice,
  type ProviderTrial,
  type Q4Compute,
} from '../../shared/decoding';
import { DEFAULT_Q4_COMPUTE } from '../../shared/defaults';
import { formatMs } from '../../shared/format';
import { makeFolders, writeFileAtomic } from '../atomicWrite';
import { SpecDecError, describeError } from '../errors';
import { cacheSlots, type CacheSlot, type PassInputs } from './architectures/architecture';
import { architectureOf } from './architectures/registry';
import { candidateProviders, deviceOutputs, providerUnavailable } from './executionProvider';
import type { ModelFolder } from './modelFolder';
import { cacheKey, readCache } from './providerVerdicts';

export interface ProbeRequest {
  models: Array<{
    path: string;
    /** the inputs a pass feeds besides the cache (the model's architecture's) */
    inputs: PassInputs;
    /** the cache slots, each [1, kvHeads, positions, headDim] */
    cache: { slots: CacheSlot[]; kvHeads: number; headDim: number };
    nPositions: number;
    vocabSize: number;
    /**
     * the providers on which the engine keeps this model's KV cache on the device: timed so too,
     * or a GPU that wins only with its cache in place (gpt2-medium on an H200: 26 ms a token
     * against 108 ms with the cache copied every pass) would lose to the CPU here
     */
    deviceCache: ExecutionProvider[];
    /** the CPU provider's threads, as the engine will open it (a count; cpuThreads.ts) */
    cpuThreads: number;
    /** how the CPU computes a 4-bit file's MatMulNBits products, as the engine will open it */
    q4Compute: Q4Compute;
  }>;
  providers: ExecutionProvider[];
  /** timed passes per provider, at most */
  passes: number;
  /** time per provider after warm-up, at most (a slow provider stops early) */
  budgetMs: number;
}

export type ProbeChildMessage =
  | { type: 'start'; modelIndex: number; provider: string }
  | {
      type: 'trial';
      modelIndex: number;
      provider: string;
      medianPassMs: number | null;
      passes: number;
      createMs: number | null;
      error: string | null;
    }
  | { type: 'done' };

/** How to start the child: the host bundled by Electron names its own copy of the script. */
export interface ProbeLauncher {
  script: string;
  execArgv: string[];
}

export interface ProbeOptions {
  /** where verdicts are kept between runs; none: probe every time */
  cacheFile?: string;
  /** where the child's output and every trial's details go */
  logFile?: string;
  /** ignore the cache and probe again */
  reprobe?: boolean;
  launcher?: ProbeLauncher;
  /** each detail line as it is logged (`--verbose`) */
  onLog?: (line: string) => void;
}

const PROBE_PASSES = 5;
const PROBE_BUDGET_MS = 1500;
/** A probe that takes longer than this is stopped; what it measured so far still counts. */
const PROBE_TIMEOUT_MS = 90_000;

/** The child as source, run through tsx (CLI, serve, tests). */
function defaultLauncher(): ProbeLauncher {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.ts')) {
    throw new Error(
      'the provider probe runs from a bundle: the host must pass the bundled probe script',
    );
  }
  return {
    script: here.replace(/providerProbe\.ts$/, 'providerProbeChild.ts'),
    execArgv: ['--import', 'tsx'],
  };
}

/** A few words for the one-line summary; the full message stays in `detail`. */
export function shortReason(provider: ExecutionProvider, detail: string): string {
  if (/no supported adapters|failed to get a webgpu adapter/i.test(detail))
    return 'no usable adapter';
  if (/CUDA provider is not installed/i.test(detail)) return 'not installed';
  if (/libcudart/.test(detail)) return 'CUDA 12 runtime not found';
  if (/libvulkan/.test(detail)) return 'no Vulkan loader';
  if (/requires f16 but the device does not support it/.test(detail))
    return 'this GPU has no 16-bit float shaders, which an fp16 model needs (fp32 and q8 run)';
  if (/crashed|timed out/.test(detail)) return detail;
  if (provider === 'cpu') return detail;
  // onnxruntime's messages start with a source path and a function signature
  const line = detail.split('\n')[0]!.replace(/^\/\S+:\d+ .*?\)::<lambda\(\)> /, '');
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}

function summarize(provider: ExecutionProvider, trials: readonly ProviderTrial[]): string {
  const chosen = trials.find((t) => t.provider === provider);
  const others = trials
    .filter((t) => t.provider !== provider)
    .map((t) =>
      t.medianPassMs !== null
        ? `${t.provider}: ${formatMs(t.medianPassMs)} a pass`
        : `${t.provider}: ${t.reason}`,
    );
  const own = chosen?.medianPassMs != null ? [`${formatMs(chosen.medianPassMs)} a pass`] : [];
  const notes = [...own, ...others];
  return notes.length === 0 ? provider : `${provider} (${notes.join('; ')})`;
}

function log(options: ProbeOptions, text: string): void {
  for (const line of text.split('\n')) if (line !== '') options.onLog?.(line);
  if (!options.logFile) return;
  try {
    makeFolders(dirname(options.logFile));
    appendFileSync(options.logFile, text.endsWith('\n') ? text : `${text}\n`);
  } catch {
    // a read-only or full data folder must not stop a sweep; the summary still says it all
  }
}

/** Run the child over these models and providers; returns each model's trials. */
async function runProbe(
  folders: ReadonlyArray<{
    folder: ModelFolder;
    deviceCache: ExecutionProvider[];
    cpuThreads: number;
    q4Compute: Q4Compute;
  }>,
  providers: ExecutionProvider[],
  options: ProbeOptions,
): Promise<Map<string, { medianPassMs: number | null; error: string | null }>[]> {
  const results = folders.map(
    () => new Map<string, { medianPassMs: number | null; error: string | null }>(),
  );
  const launcher = options.launcher ?? defaultLauncher();
  const request: ProbeRequest = {
    models: folders.map(({ folder: f, deviceCache, cpuThreads, q4Compute }) => ({
      path: f.onnxPath,
      inputs: architectureOf(f.config.modelType).inputs,
      cache: {
        slots: cacheSlots(architectureOf(f.config.modelType), f.config),
        kvHeads: f.config.nKvHeads,
        headDim: f.config.headDim,
      },
      nPositions: f.config.nPositions,
      vocabSize: f.config.vocabSize,
      deviceCache,
      cpuThreads,
      q4Compute,
    })),
    providers,
    passes: PROBE_PASSES,
    budgetMs: PROBE_BUDGET_MS,
  };
  log(
    options,
    `--- provider probe ${new Date().toISOString()}: ${providers.join(', ')} on ${folders.map((f) => f.folder.onnxPath).join(', ')}`,
  );
  const started = performance.now();
  await new Promise<void>((resolve) => {
    const child = fork(launcher.script, [], {
      execArgv: launcher.execArgv,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // Electron's binary runs the script as plain Node
      env: { ...process.env, ...(process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {}) },
    });
    let current: { modelIndex: number; provider: string } | null = null;
    // onnxruntime colours its warnings; a log file wants plain text
    const output = (chunk: Buffer): void =>
      log(options, stripVTControlCharacters(chunk.toString('utf8')));
    child.stdout?.on('data', output);
    child.stderr?.on('data', output);
    const timer = setTimeout(() => child.kill('SIGKILL'), PROBE_TIMEOUT_MS);
    child.on('message', (m: ProbeChildMessage) => {
      if (m.type === 'start') current = m;
      else if (m.type === 'trial') {
        current = null;
        results[m.modelIndex]?.set(m.provider, { medianPassMs: m.medianPassMs, error: m.error });
        const model = folders[m.modelIndex];
        const onDevice = model?.deviceCache.includes(m.provider as ExecutionProvider);
        log(
          options,
          `${model?.folder.name} on ${m.provider}${onDevice ? ' (cache on the device)' : ''}: ${m.error ?? `median ${formatMs(m.medianPassMs!)} a pass over ${m.passes} passes (session created in ${formatMs(m.createMs!)})`}`,
        );
      }
    });
    child.on('error', (err) => {
      log(options, `could not start the probe: ${describeError(err)}`);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (current) {
        const how = signal === 'SIGKILL' ? 'timed out' : `crashed (${signal ?? `exit ${code}`})`;
        results[current.modelIndex]?.set(current.provider, {
          medianPassMs: null,
          error: `${how} while probing`,
        });
      }
      resolve();
    });
    child.send(request);
  });
  log(options, `probe took ${formatMs(performance.now() - started)}`);
  return results;
}

/**
 * The provider for each model, from what was asked per model. `cpu` needs no probe; a named GPU
 * provider is checked in the child (so its native noise stays there) and refused with a clear
 * error if it cannot start; `auto` measures and picks the fastest.
 */
export async function chooseProviders(
  models: ReadonlyArray<{
    folder: ModelFolder;
    choice: ExecutionProviderChoice;
    /** where the engine will keep the KV cache (auto: on the device where the provider can) */
    kvLocation?: KvLocationChoice;
    /** the CPU provider's threads the engine will use (default 1) */
    cpuThreads?: number;
    /** how the CPU will compute a 4-bit file's products (default int8): the CPU is timed so */
    q4Compute?: Q4Compute;
  }>,
  options: ProbeOptions = {},
): Promise<ProviderChoice[]> {
  const cache = readCache(options.cacheFile);
  let cacheChanged = false;
  const plans = models.map(
    ({ folder, choice, kvLocation = 'auto', cpuThreads = 1, q4Compute = DEFAULT_Q4_COMPUTE }) => {
      const wanted: ExecutionProvider[] = choice === 'auto' ? candidateProviders() : [choice];
      const skipped: ProviderTrial[] = [];
      const toTry: ExecutionProvider[] = [];
      for (const p of wanted) {
        const why = p === 'cpu' ? null : providerUnavailable(p);
        if (why)
          skipped.push({
            provider: p,
            medianPassMs: null,
            reason: shortReason(p, why),
            detail: why,
          });
        else toTry.push(p);
      }
      // cpu alone needs no measuring; so does a named provider that cannot load
      const probe = toTry.length > 1 || (toTry.length === 1 && toTry[0] !== 'cpu');
      // cpu is timed first, so a slow GPU provider can stop early
      toTry.sort((a, b) => (a === 'cpu' ? -1 : b === 'cpu' ? 1 : 0));
      const deviceCache = toTry.filter((p) => kvLocation !== 'host' && deviceOutputs(p));
      const key = probe ? cacheKey(folder, toTry, deviceCache, cpuThreads, q4Compute) : null;
      const cached = key && !options.reprobe ? cache[key] : undefined;
      return {
        folder,
        choice,
        skipped,
        toTry,
        deviceCache,
        cpuThreads,
        q4Compute,
        probe,
        key,
        cached,
      };
    },
  );

  const pending = plans.filter((p) => p.probe && !p.cached);
  if (pending.length > 0) {
    const providers = [...new Set(pending.flatMap((p) => p.toTry))];
    const results = await runProbe(
      pending.map((p) => ({
        folder: p.folder,
        deviceCache: p.deviceCache,
        cpuThreads: p.cpuThreads,
        q4Compute: p.q4Compute,
      })),
      providers,
      options,
    );
    pending.forEach((plan, i) => {
      const measured = results[i]!;
      plan.cached = plan.toTry.map((provider): ProviderTrial => {
        const r = measured.get(provider) ?? {
          medianPassMs: null,
          error: 'not tried: the probe stopped early',
        };
        // cpu is never ruled out here: if it cannot open the model, loading says why clearly
        return {
          provider,
          medianPassMs: r.medianPassMs,
          reason: r.error && provider !== 'cpu' ? shortReason(provider, r.error) : null,
          detail: r.error,
        };
      });
      // a crash or time-out is not a verdict worth keeping
      if (plan.cached.every((t) => !/crashed|timed out|stopped early/.test(t.detail ?? ''))) {
        cache[plan.key!] = plan.cached;
        cacheChanged = true;
      }
    });
  }
  if (cacheChanged && options.cacheFile) {
    try {
      writeFileAtomic(options.cacheFile, JSON.stringify(cache, null, 2));
    } catch (err) {
      log(
        options,
        `could not save the probe's verdict (${describeError(err)}); it runs again next time`,
      );
    }
  }

  return plans.map((plan) => {
    const tried = plan.probe
      ? plan.cached!
      : plan.toTry.map((provider) => ({
          provider,
          medianPassMs: null,
          reason: null,
          detail: null,
        }));
    const started = tried.filter((t) => t.reason === null);
    if (started.length === 0) {
      // a loader's sentence for what was ruled out up front; the short reason (and where the
      // details went) for what failed in the probe
      const failure = plan.skipped[0] ?? tried[0];
      const detail = !failure
        ? 'no provider could start'
        : plan.skipped.includes(failure)
          ? failure.detail!
          : `${failure.reason}${options.logFile ? `; details in ${options.logFile}` : ''}`;
      throw new SpecDecError(
        'EXECUTION_PROVIDER',
        plan.choice === 'auto'
          ? `No execution provider could run ${plan.folder.onnxPath} (${detail}).`
          : `The ${plan.choice} execution provider is not available here (${detail}). Choose auto or cpu instead; the README's GPU set-up lists what ${plan.choice} needs.`,
        ['ep'],
      );
    }
    const best = started.reduce((a, b) =>
      (b.medianPassMs ?? Infinity) < (a.medianPassMs ?? Infinity) ? b : a,
    );
    const trials: ProviderTrial[] = [
      ...tried.map((t) =>
        t.reason === null && t.provider !== best.provider
          ? { ...t, reason: `slower (${formatMs(t.medianPassMs!)} a pass)` }
          : t,
      ),
      ...plan.skipped,
    ];
    return ProviderChoice.parse({
      requested: plan.choice,
      provider: best.provider,
      trials,
      summary: summarize(best.provider, trials),
      cached: plan.probe && !pending.includes(plan),
    });
  });
}

/** The probe's cache and log inside a data folder (the app's, `serve`'s or the CLI's). */
export function probeFiles(dataDir: string): Pick<ProbeOptions, 'cacheFile' | 'logFile'> {
  return {
    cacheFile: join(dataDir, 'provider-probe.json'),
    logFile: join(dataDir, 'logs', 'provider-probe.log'),
  };
}
