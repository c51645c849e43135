/** How many CPU threads a model's session runs an operator on, and the options that say so. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type * as ort from 'onnxruntime-node';

/**
 * Where a model counts as large: its matrix products dominate a pass. Above it the CPU provider
 * gets a thread per core, and the engine runs the export as it is instead of rebuilding it with
 * fused operators (rebuiltGraph.ts): the rebuild removes a fixed cost per node, which is a quarter of
 * a pass of the embedded target (30 MB) but nothing measurable at gpt2-medium's size (1.6 GB:
 * 0.97x), where decoding and re-encoding the weights and the load-time agreement check would triple the
 * load (17 s against 5.6 s here).
 */
export const LARGE_MODEL_BYTES = 128 * 2 ** 20;

/**
 * The CPU provider's default threads for one operator. A small model's pass is mostly dispatch,
 * which threads only add to: one is fastest. A large one's matrix products split well: gpt2-medium
 * (1.6 GB) took 42-47 ms a pass on 2 threads against 70-75 ms on one (2-vCPU machine, 2026-12-04),
 * and 32 ms on 16 threads against 108 ms on one on an idle 16-core one. 0: a thread per physical
 * core (resolveThreads).
 */
export function cpuThreadsFor(onnxPath: string): number {
  // weights may sit beside the graph as external data (optimum names it model.onnx_data)
  const bytes = [onnxPath, `${onnxPath}_data`, `${onnxPath}.data`]
    .filter((f) => existsSync(f))
    .reduce((sum, f) => sum + statSync(f).size, 0);
  return bytes > LARGE_MODEL_BYTES ? 0 : 1;
}

/**
 * The physical cores this process may use: on Linux the distinct (package, core) pairs in sysfs,
 * at most the CPUs its affinity allows; elsewhere the CPUs Node reports. Not onnxruntime's own
 * count (intraOpNumThreads 0): on a 2-core AMD EPYC VM it gave one thread's speed (gpt2-medium
 * 61-87 ms a pass, against 41-56 ms on 2 threads named).
 */
export function physicalCores(): number {
  const usable = availableParallelism();
  if (process.platform !== 'linux') return usable;
  const root = '/sys/devices/system/cpu';
  try {
    const cores = new Set<string>();
    for (const cpu of readdirSync(root)) {
      const topology = join(root, cpu, 'topology');
      if (!/^cpu\d+$/.test(cpu) || !existsSync(topology)) continue; // offline CPUs have none
      const at = (f: string): string => readFileSync(join(topology, f), 'utf8').trim();
      cores.add(`${at('physical_package_id')}:${at('core_id')}`);
    }
    return cores.size > 0 ? Math.min(cores.size, usable) : usable;
  } catch {
    return usable; // sysfs unreadable (a sandbox): count what Node sees
  }
}

/** A thread count as sessions get it: 0 (a thread per physical core) becomes that count. */
export const resolveThreads = (threads: number): number =>
  threads === 0 ? physicalCores() : threads;

/**
 * The CPU provider's thread options for a session. A pool of more than half the cores does not
 * spin waiting for work: the two models take turns on the same cores, and one model's pool
 * spinning after its pass takes them from the other's, whose threads then wait for a core.
 * Measured with gpt2-medium / gpt2 stand-ins, K=2, ms a target / draft pass: on 2 vCPUs with 2
 * threads each 45-61 / 15-24 not spinning against 66-82 / 25-34 spinning; on 16 cores with 16
 * threads each 29.2 / 10.7 against 57.5 / 22.1 (onnxruntime's own count, spinning). A smaller
 * pool keeps spinning, which saves waking its threads for each operator: 4 threads each on 16
 * cores took 44.4 / 14.9 spinning against 63.7 / 21.8 not.
 */
export function cpuThreadOptions(
  threads: number,
  cores = physicalCores(),
): Pick<ort.InferenceSession.SessionOptions, 'intraOpNumThreads' | 'interOpNumThreads' | 'extra'> {
  const spin = threads === 1 || threads <= cores / 2;
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    ...(spin ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
  };
}
