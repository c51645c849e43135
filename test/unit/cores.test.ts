/** bench:app's split of the cores (tools/cores.ts): finding the processes and pinning them. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreSplit, partition, pin, runQueueWaitMs } from '../../tools/cores';

const found = coreSplit();
const usable = !('unavailable' in found);
/** the split, for tests that run only where it is usable (describe.skipIf below) */
const split = 'unavailable' in found ? null! : found;
/** schedstat is a kernel option: without it the wait cannot be read, and that test is skipped */
const schedstat = runQueueWaitMs(process.pid) !== null;

/** the cores a thread of `pid` may run on, as /proc says */
const allowed = (pid: number, tid = pid): string =>
  /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))![1]!;

describe.skipIf(!usable)('tools/cores', () => {
  let marked: ChildProcess;
  let other: ChildProcess;

  beforeAll(async () => {
    // a process with threads of its own (node's), found by a marker in its command line
    marked = spawn(process.execPath, [
      '-e',
      'console.log("up"); setTimeout(() => {}, 30000)',
      'cores-test-marker',
    ]);
    other = spawn('sleep', ['30']);
    await new Promise((resolve) => marked.stdout!.once('data', resolve));
  });
  afterAll(() => {
    marked.kill();
    other.kill();
  });

  it('keeps the last core for the engine and the others for the rest', () => {
    const n = Number(split.engine) + 1;
    expect(split.all).toBe(`0-${n - 1}`);
    expect(split.rest).toBe(n === 2 ? '0' : `0-${n - 2}`);
  });

  it('tells the marked process apart from the others under a parent, and pins every thread', () => {
    const { matching, others } = partition(process.pid, 'cores-test-marker');
    expect(matching).toEqual([marked.pid]);
    expect(others).toContain(other.pid);
    expect(others).not.toContain(marked.pid);

    pin([marked.pid!], split.engine);
    const tids = readdirSync(`/proc/${marked.pid}/task`);
    expect(tids.length).toBeGreaterThan(1);
    for (const tid of tids) expect(allowed(marked.pid!, Number(tid))).toBe(split.engine);

    pin([marked.pid!], split.all);
    expect(allowed(marked.pid!)).toBe(split.all);
  });

  it('pinning a process that has exited is not an error', async () => {
    const gone = spawn('true');
    await new Promise((resolve) => gone.on('exit', resolve));
    expect(() => pin([gone.pid!], split.engine)).not.toThrow();
  });

  it.skipIf(!schedstat)("reads a thread's wait for a core, growing as it waits", () => {
    const wait = runQueueWaitMs(process.pid)!;
    expect(wait).toBeGreaterThanOrEqual(0);
    expect(runQueueWaitMs(process.pid)!).toBeGreaterThanOrEqual(wait);
    expect(runQueueWaitMs(2 ** 22 + 1)).toBeNull();
  });
});
