/**
 * CPU affinity for bench:app on Linux. Node has no API for it, so this goes through util-linux's
 * `taskset` (part of every Debian and most Linux systems); elsewhere, or on one core, there is no
 * split and the benchmark measures only with the cores shared.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * A core for the engine alone, the others for the browser, the server and the harness. The
 * engine's process keeps to its core with all its threads (V8's garbage collector among them),
 * so the CLI it is compared with runs on the same core the same way.
 */
export interface CoreSplit {
  /** a taskset CPU list: the engine's core */
  engine: string;
  /** the other cores */
  rest: string;
  /** every core */
  all: string;
}

/** The last core for the engine, the others for the rest; the reason when it cannot be done. */
export function coreSplit(): CoreSplit | { unavailable: string } {
  if (process.platform !== 'linux')
    return { unavailable: 'CPU affinity is set here on Linux only' };
  const n = availableParallelism();
  if (n < 2) return { unavailable: 'this machine has one core' };
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
  } catch {
    return { unavailable: 'taskset (util-linux) is not installed' };
  }
  return { engine: String(n - 1), rest: n === 2 ? '0' : `0-${n - 2}`, all: `0-${n - 1}` };
}

/** the command line of a process, or '' once it is gone */
function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** every living process under `root`, its children first-level and below */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // the field after the ")" that closes the command name: state, then the parent's pid
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
  }
  const out: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** the processes under `root` whose command line contains `marker`, and the others */
export function partition(root: number, marker: string): { matching: number[]; others: number[] } {
  const all = descendants(root);
  const matching = all.filter((pid) => cmdline(pid).includes(marker));
  return { matching, others: all.filter((pid) => !matching.includes(pid)) };
}

/** Keep every thread of these processes on `cpus` (threads started later inherit it). */
export function pin(pids: readonly number[], cpus: string): void {
  for (const pid of pids) {
    try {
      execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', cpus, String(pid)], {
        stdio: 'ignore',
      });
    } catch {
      // the process exited in between: nothing left to pin
    }
  }
}

/**
 * How long the process's main thread has waited, runnable, for a core (ms, the kernel's
 * schedstat run delay); null where the kernel does not say.
 */
export function runQueueWaitMs(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').trim().split(' ');
    const ns = Number(fields[1]);
    return Number.isFinite(ns) ? ns / 1e6 : null;
  } catch {
    return null;
  }
}
