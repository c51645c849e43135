/**
 * A model's passes, timed: how long onnxruntime worked (inside session.run) apart from how long
 * the pass waited for the event loop, the time spent cropping the cache, and the bytes each pass
 * moved between host and device. Every session.run of a model goes through `run` here.
 */
import type * as ort from 'onnxruntime-node';
import type { PassTransfer } from '../../shared/decoding';
import { median } from '../../shared/stats';
import { SpecDecError, describeError } from '../errors';
import type { DeviceTensorLedger } from './deviceTensors';
import type { ExecutionProvider } from './executionProvider';

/** What `snapshot` keeps and `restore` puts back: a side pass leaves no trace in them. */
export interface PassCounters {
  passes: number;
  runMs: number;
  passMs: number;
  queuedMs: number;
  cropMs: number;
  cacheBytes: number[];
  readBytes: number[];
}

export class PassTimer {
  /** model passes (session.run calls of the model itself) since creation or the last reset() */
  passes = 0;
  /**
   * milliseconds spent inside session.run since creation or the last reset(), from the moment
   * onnxruntime starts the pass (not while the event loop still serves other callbacks:
   * `queuedMs`); on a device-resident model this includes reading the verdicts back, where a
   * GPU's asynchronous work is waited for
   */
  runMs = 0;
  /**
   * milliseconds between calling session.run and onnxruntime starting the pass: onnxruntime-node
   * runs it from a setImmediate, so I/O callbacks already due (a host's messages to the app, a
   * progress bar's writes) run first. Part of a run's wall-clock time, not of the model's cost.
   */
  queuedMs = 0;
  /**
   * milliseconds of whole passes since creation or the last reset(): from the call to the logits
   * handed back (building the feeds, the cache in and out, session.run, reading back), less the
   * wait for the event loop (`queuedMs`). A run's time split reads it (draft and target passes).
   */
  passMs = 0;
  /** milliseconds spent cropping the KV cache (copying the kept prefix, or slicing on the device) */
  cropMs = 0;
  /** per pass since reset(): host<->device cache bytes, and other bytes read back */
  private cacheBytes: number[] = [];
  private readBytes: number[] = [];

  constructor(
    /** the model folder, named when a pass fails */
    private readonly modelDir: string,
    private readonly executionProvider: ExecutionProvider,
    private readonly deviceTensors: DeviceTensorLedger,
  ) {}

  reset(): void {
    this.passes = 0;
    this.runMs = 0;
    this.passMs = 0;
    this.queuedMs = 0;
    this.cropMs = 0;
    this.cacheBytes = [];
    this.readBytes = [];
  }

  /** the counters as they are, the per-pass bytes starting afresh until `restore` */
  snapshot(): PassCounters {
    const counters: PassCounters = {
      passes: this.passes,
      runMs: this.runMs,
      passMs: this.passMs,
      queuedMs: this.queuedMs,
      cropMs: this.cropMs,
      cacheBytes: this.cacheBytes,
      readBytes: this.readBytes,
    };
    this.cacheBytes = [];
    this.readBytes = [];
    return counters;
  }

  restore(counters: PassCounters): void {
    Object.assign(this, counters);
  }

  /** one pass's host<->device cache bytes and other bytes read back */
  record(cacheBytes: number, readBytes: number): void {
    this.cacheBytes.push(cacheBytes);
    this.readBytes.push(readBytes);
  }

  /** host<->device bytes per pass since reset() (medians); null before any pass */
  transfer(): PassTransfer | null {
    if (this.cacheBytes.length === 0) return null;
    return { cacheBytesPerPass: median(this.cacheBytes), readBytesPerPass: median(this.readBytes) };
  }

  /** ms since t0 less the event-loop wait of the session.runs since then (queuedMs was queued0) */
  runningSince(t0: number, queued0: number): number {
    return performance.now() - t0 - (this.queuedMs - queued0);
  }

  /**
   * session.run, a failure reported in words (a failing provider as such; never onnxruntime's
   * bare native message)
   */
  async run(
    session: ort.InferenceSession,
    feeds: Record<string, ort.Tensor>,
    fetches?: readonly string[],
  ): Promise<ort.InferenceSession.ReturnType> {
    // onnxruntime-node queues the pass with setImmediate inside session.run: an immediate queued
    // just before it runs just before the pass, so the wait for the event loop is told apart.
    const called = performance.now();
    let started = called;
    setImmediate(() => (started = performance.now()));
    try {
      const out = await (fetches ? session.run(feeds, [...fetches]) : session.run(feeds));
      this.queuedMs += started - called;
      this.deviceTensors.adopt(out);
      return out;
    } catch (err) {
      if (err instanceof SpecDecError) throw err;
      if (this.executionProvider === 'cpu')
        // the CPU runs every valid graph: a failing pass is a model whose files disagree (an
        // index past a table the config did not describe) or a machine out of memory
        throw new SpecDecError(
          'ONNX_INVALID',
          `A pass of ${this.modelDir} failed in onnxruntime (${describeError(err).split('\n')[0]}). Its config.json may not describe its ONNX file, or memory ran out: re-export or re-download the model, or run a smaller one.`,
        );
      throw new SpecDecError(
        'EXECUTION_PROVIDER',
        `A pass of ${this.modelDir} failed on the ${this.executionProvider} execution provider (${describeError(err).split('\n')[0]}). Run again on cpu; the README's GPU set-up lists what ${this.executionProvider} needs.`,
        ['ep'],
      );
    }
  }
}

/** bytes of a tensor's data, wherever it is */
export function byteSize(t: ort.Tensor): number {
  const width = t.type === 'float16' ? 2 : t.type === 'int64' ? 8 : t.type === 'bool' ? 1 : 4;
  return t.size * width;
}
