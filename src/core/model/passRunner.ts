/**
 * One model pass, feeds to logits: the session it runs in (the export's, the fused rebuild's, or
 * the tree graph once it has become the model's only session), the cache handed in and taken
 * back, the time inside session.run, and the logits read back (on the device or from the host).
 */
import type * as ort from 'onnxruntime-node';
import type { PassInputs } from './architectures/architecture';
import { architectureOf } from './architectures/registry';
import { readDecoderInterface } from './decoderInterface';
import { readOnDevice, type DeviceGraphs } from './deviceGraphs';
import { DeviceTensorLedger } from './deviceTensors';
import type { ExecutionProvider } from './executionProvider';
import { halfsToFloats } from './float16';
import { KvCache, type CacheType } from './kvCache';
import { Logits, type GreedyRead } from './logits';
import type { ModelFolder } from './modelFolder';
import { PassFeeds, type ZeroTreeBias } from './passFeeds';
import { byteSize, PassTimer } from './passTiming';

/** A token tree's pass: each token's position and the mask added to attention's scores. */
export interface TreePass {
  positions: readonly number[];
  bias: Float32Array;
  /** the session to run it in; default the runner's own */
  session?: ort.InferenceSession;
}

export class PassRunner {
  private feeds: PassFeeds;
  /** the sessions it was given and has not released */
  private readonly open = new Set<ort.InferenceSession>();

  constructor(
    /** the session every pass runs in (switchTo changes it) */
    private current: ort.InferenceSession,
    private readonly inputs: PassInputs,
    private readonly nPositions: number,
    private readonly kv: KvCache,
    private readonly timer: PassTimer,
    private readonly deviceTensors: DeviceTensorLedger,
    private readonly device: DeviceGraphs | null,
    private readonly logitsType: CacheType,
    /** the ids a pass's logits are read over; null: all of the model's rows */
    private readonly logitWidth: number | null,
  ) {
    this.feeds = new PassFeeds(inputs, current.inputNames, nPositions);
    this.open.add(current);
  }

  /** the sessions open now: 1, or 0 between releaseSession and the next switchTo */
  get openSessions(): number {
    return this.open.size;
  }

  /** Release the session it runs in (switchTo gives it the next). */
  async releaseSession(): Promise<void> {
    this.open.delete(this.current);
    await this.current.release();
  }

  /** Release every session it holds. */
  async release(): Promise<void> {
    for (const session of this.open) await session.release();
    this.open.clear();
  }

  get session(): ort.InferenceSession {
    return this.current;
  }

  /**
   * Run every later pass in `session` (the tree graph), feeding a tree_bias it has zeros of
   * `zeroBias`'s shape where a pass has no tree; the one it replaces stays open until
   * releaseSession or release.
   */
  switchTo(session: ort.InferenceSession, zeroBias: ZeroTreeBias = 'full'): void {
    this.current = session;
    this.open.add(session);
    this.feeds = new PassFeeds(this.inputs, session.inputNames, this.nPositions, zeroBias);
  }

  /**
   * One pass over `tokens` (`batch` rows of equal length, row after row) after the cached ones,
   * extending the cache; with `tree`, a token tree's nodes at their positions under its mask.
   */
  async run(
    tokens: readonly number[],
    batch: number,
    greedy?: GreedyRead,
    tree?: TreePass,
  ): Promise<Logits> {
    const n = tokens.length / batch;
    const past = this.kv.length;
    const total = past + n;
    if (n === 0) throw new Error('forward() needs at least one token');
    // a tree's nodes sit at their depth's position: the cache may hold more than the context
    const end = tree ? Math.max(...tree.positions) + 1 : total;
    if (end > this.nPositions) {
      throw new Error(`forward() past the context: ${end} > ${this.nPositions}`);
    }
    const called = performance.now();
    const queuedAtCall = this.timer.queuedMs;
    const feeds = this.feeds.build(tokens, past, batch, tree?.positions, tree?.bias);
    // the host cache crosses to a GPU provider and back: the bytes in now, those out below
    let cacheBytes = await this.kv.feedInto(feeds);

    const t0 = performance.now();
    const queued0 = this.timer.queuedMs;
    const out = await this.timer.run(tree?.session ?? this.current, feeds);
    this.timer.passes++;

    cacheBytes += this.kv.takePresent(out, total);
    const logits = out.logits!;
    if (this.device) {
      try {
        const read = await readOnDevice(this.device, this.timer, logits, batch * n, greedy);
        this.timer.runMs += this.timer.runningSince(t0, queued0);
        this.timer.record(cacheBytes, read.bytes);
        this.timer.passMs += this.timer.runningSince(called, queuedAtCall);
        return read.logits;
      } finally {
        this.deviceTensors.drop(logits);
      }
    }
    this.timer.runMs += this.timer.runningSince(t0, queued0);
    this.timer.record(cacheBytes, byteSize(logits));
    const stride = logits.dims[2]!;
    // float16 logits become float32 once, here: every later read (argmax, softmax) is plain.
    const data =
      this.logitsType === 'float16'
        ? halfsToFloats(logits.data as Uint16Array)
        : (logits.data as Float32Array);
    const width = Math.min(this.logitWidth ?? stride, stride);
    const read = new Logits(batch * n, width, data, null, stride);
    this.timer.passMs += this.timer.runningSince(called, queuedAtCall);
    return read;
  }

  /**
   * `run` as a side pass from an empty cache, leaving the cache and the counters as they were
   * (a run, a live one too, goes on unaffected).
   */
  async aside<T>(pass: () => Promise<T>): Promise<T> {
    const cache = this.kv.detach();
    const counters = this.timer.snapshot();
    try {
      return await pass();
    } finally {
      this.kv.restore(cache);
      this.timer.restore(counters);
    }
  }
}

/** What a model's passes run on: its cache, their timing, and the runner over its session. */
export interface ModelPasses {
  cacheType: CacheType;
  deviceTensors: DeviceTensorLedger;
  timer: PassTimer;
  kv: KvCache;
  runner: PassRunner;
}

/** The cache, timer and runner of a model opened as `session` (its interface read from it). */
export function modelPasses(
  folder: ModelFolder,
  session: ort.InferenceSession,
  executionProvider: ExecutionProvider,
  device: DeviceGraphs | null,
  logitWidth: number | null,
): ModelPasses {
  const architecture = architectureOf(folder.config.modelType);
  const { slots, cacheType, logitsType } = readDecoderInterface(session, folder, architecture);
  const deviceTensors = new DeviceTensorLedger();
  const timer = new PassTimer(folder.dir, executionProvider, deviceTensors);
  const kv = new KvCache(
    slots,
    cacheType,
    folder.config,
    deviceTensors,
    timer,
    device?.crop ?? null,
    device?.gather ?? null,
    // a GPU provider with the cache in host memory: every pass copies it both ways
    !device && executionProvider !== 'cpu',
  );
  const runner = new PassRunner(
    session,
    architecture.inputs,
    folder.config.nPositions,
    kv,
    timer,
    deviceTensors,
    device,
    logitsType,
    logitWidth,
  );
  return { cacheType, deviceTensors, timer, kv, runner };
}
