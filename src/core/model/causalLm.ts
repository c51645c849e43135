/**
 * A GPT-2 causal LM over onnxruntime-node that owns its KV cache.
 *
 * The decoding loops call `forward` once per model pass, so everything here is on the hot path:
 * per-call JavaScript work (tensor allocation, BigInt conversion, cache copies) competes with a
 * draft pass of a few hundred microseconds. Input buffers are reused, the cache is handed from
 * one pass to the next without copying, and cropping copies only when it must.
 *
 * Where the cache lives (`kvLocation`):
 * - host: onnxruntime returns every output to JavaScript memory (its default), and the next pass
 *   sends the cache back. On the CPU provider that is the only choice and costs no device copy;
 *   on a GPU it costs the whole cache down and up every pass.
 * - device (GPU providers that onnxruntime-node can leave outputs on: WebGPU): `present.*` stay
 *   as device tensors and go straight back in as `past_key_values.*`; dropping rejected drafts
 *   slices them on the device (onnxGraph.ts's crop graph, run lazily before the next pass); the
 *   logits stay there too and the head graph reads back, per row, the argmax, the tie margin and
 *   the two probabilities greedy decoding reports. Full rows come back only when a caller asks
 *   (sampling, repetition controls, the step detail). Every device tensor is disposed when it is
 *   replaced; `liveDeviceTensors` counts the ones held.
 */
import { readFileSync, statSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { SpecDecError, describeError } from '../errors';
import type {
  GraphChoice,
  KvLocationChoice,
  KvLocation,
  ModelGraph,
  PassTransfer,
  ProviderChoice,
} from '../../shared/decoding';
import { median } from '../../shared/stats';
import {
  cpuThreadOptions,
  cpuThreadsFor,
  LARGE_MODEL_BYTES as FUSE_MAX_BYTES,
  resolveThreads,
} from './cpuThreads';
import { createSession, deviceOutputs, type ExecutionProvider } from './executionProvider';
import type { ModelFolder } from './modelFolder';
import { halfsToFloats } from './float16';
import { argmaxWithMargin, probOf } from './argmax';
import { cropGraph, headGraph, HEAD_OUTPUTS } from './onnxGraph';
import { fuseGpt2, NotFusable } from './fusedGpt2';

/** The KV cache's element types: fp32 and q8 exports keep a float32 cache, fp16 exports float16. */
type CacheType = 'float32' | 'float16';
type CacheArray = Float32Array | Uint16Array;

export interface CausalLmOptions {
  /** default cpu; providerProbe.ts chooses one for `auto` */
  executionProvider?: ExecutionProvider;
  /** how the provider was chosen, kept for reports */
  providerChoice?: ProviderChoice;
  /**
   * the CPU provider's threads for one operator; 0: one per physical core (physicalCores).
   * Default: cpuThreadsFor (1 for a small model, 0 for a large one).
   */
  intraOpThreads?: number;
  /** where the KV cache lives between passes (default auto: on the device where it can) */
  kvLocation?: KvLocationChoice;
  /**
   * auto (the default): on the CPU provider, run the graph rebuilt with onnxruntime's fused
   * operators (fusedGpt2.ts) when the export is a float32 GPT-2 and the rebuilt graph agrees with
   * it; exported: always run the file as it is
   */
  graph?: GraphChoice;
}

/**
 * How far a rebuilt graph's logits may be from the export's on the load-time probe, relative to
 * the largest logit: float32 sums in another order differ by about 1e-6; a wrongly wired graph
 * differs by the logits' own size.
 */
const FUSED_TOLERANCE = 1e-3;

/**
 * What a greedy pass needs back: per row, the argmax, its margin and probability, and the
 * probability of `pick[row]` (a draft token; absent or -1: none). On a device-resident model this
 * is all that is read; elsewhere the rows come back anyway and these are computed from them.
 */
export interface GreedyRead {
  pick?: readonly number[];
}

/** A device-resident model's crop and head graphs (onnxGraph.ts), on its provider. */
interface DeviceGraphs {
  crop: ort.InferenceSession;
  head: ort.InferenceSession;
}

/** The per-row values the head graph computes on the device. */
interface DeviceVerdicts {
  ids: BigInt64Array;
  top2: Float32Array;
  lse: Float32Array;
  picked: Float32Array;
  pick: BigInt64Array;
}

/** The logits of the new positions of one pass: the rows, or their greedy verdicts. */
export class Logits {
  constructor(
    readonly rows: number,
    readonly vocab: number,
    private readonly rowData: Float32Array | null,
    private readonly verdicts: DeviceVerdicts | null = null,
  ) {}

  /** all rows, row-major [rows, vocab] (only when the pass read rows) */
  get data(): Float32Array {
    if (!this.rowData)
      throw new Error('this pass read greedy verdicts only: forward() without them');
    return this.rowData;
  }

  row(i: number): Float32Array {
    return this.data.subarray(i * this.vocab, (i + 1) * this.vocab);
  }

  /** the greedy choice of row i (the first on ties); the top-two gap goes to gap[0] */
  argmax(i: number, gap: Float64Array): number {
    const v = this.verdicts;
    if (!v) return argmaxWithMargin(this.row(i), gap);
    gap[0] = v.top2[2 * i]! - v.top2[2 * i + 1]!;
    return Number(v.ids[i]!);
  }

  /** softmax probability of `token` in row i (on the device: the argmax or the picked token) */
  prob(i: number, token: number): number {
    const v = this.verdicts;
    if (!v) return probOf(this.row(i), token);
    if (Number(v.pick[i]!) === token) return Math.exp(v.picked[i]! - v.lse[i]!);
    if (Number(v.ids[i]!) === token) return Math.exp(v.top2[2 * i]! - v.lse[i]!);
    throw new Error(`row ${i}: token ${token} is neither the argmax nor the picked token`);
  }
}

export class OnnxCausalLM {
  /** model passes (session.run calls) since creation or the last resetCounters() */
  passes = 0;
  /**
   * milliseconds spent inside session.run since creation or the last resetCounters(), from the
   * moment onnxruntime starts the pass (not while the event loop still serves other callbacks:
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
  /** milliseconds spent cropping the KV cache (copying the kept prefix, or slicing on the device) */
  cropMs = 0;
  /**
   * device tensors onnxruntime has handed this model and it has not disposed yet: its cache
   * (2 per layer) between passes, on a device-resident model; 0 elsewhere
   */
  liveDeviceTensors = 0;

  private cache: ort.Tensor[];
  /** one reusable buffer per cache slot, for crops */
  private readonly cropBuffers: CacheArray[] = [];
  /** float16 for fp16 exports: the cache is kept and cropped as 16-bit data */
  readonly cacheType: CacheType;
  private readonly logitsType: CacheType;
  private cacheLen = 0;
  /** device-resident: the cache tensors are longer than cacheLen until the next pass slices them */
  private cropPending = false;
  private readonly ones: BigInt64Array;
  private readonly pastNames: string[];
  private readonly presentNames: string[];
  private readonly hasPositionIds: boolean;
  private readonly hasUseCacheBranch: boolean;
  /** a GPU provider with the cache in host memory: every pass copies it both ways */
  private readonly hostCacheOnGpu: boolean;
  /** per pass since resetCounters(): host<->device cache bytes, and other bytes read back */
  private cacheBytes: number[] = [];
  private readBytes: number[] = [];

  private constructor(
    readonly folder: ModelFolder,
    private readonly session: ort.InferenceSession,
    readonly executionProvider: ExecutionProvider,
    /** what was asked, tried and measured; null when the provider was simply given */
    readonly providerChoice: ProviderChoice | null,
    /** the device-side crop and head graphs; null when the cache lives on the host */
    private readonly device: DeviceGraphs | null,
    /** the graph it runs */
    readonly graph: ModelGraph = 'exported',
    /** why the export runs as it is, where a rebuilt graph was tried; null otherwise */
    readonly graphNote: string | null = null,
    /** the CPU provider's threads for one operator (a count, never 0); 1 elsewhere */
    readonly threads = 1,
  ) {
    const { nLayer } = folder.config;
    this.pastNames = [];
    this.presentNames = [];
    for (let i = 0; i < nLayer; i++) {
      for (const kv of ['key', 'value']) {
        this.pastNames.push(`past_key_values.${i}.${kv}`);
        this.presentNames.push(`present.${i}.${kv}`);
      }
    }
    const inputs = new Set(session.inputNames);
    const outputs = new Set(session.outputNames);
    const missing = [
      ...['input_ids', 'attention_mask', ...this.pastNames].filter((n) => !inputs.has(n)),
      ...['logits', ...this.presentNames].filter((n) => !outputs.has(n)),
    ];
    if (missing.length > 0) {
      throw new SpecDecError(
        'ONNX_INTERFACE',
        `${folder.onnxPath} does not have the gpt2-with-past interface (missing ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''}). Export it with past key/values (e.g. optimum's "text-generation-with-past").`,
      );
    }
    this.cacheType = tensorType(session.inputMetadata, this.pastNames[0]!, folder);
    this.logitsType = tensorType(session.outputMetadata, 'logits', folder);
    this.hasPositionIds = inputs.has('position_ids');
    this.hasUseCacheBranch = inputs.has('use_cache_branch');
    this.ones = new BigInt64Array(folder.config.nPositions).fill(1n);
    this.cache = this.emptyCache();
    this.hostCacheOnGpu = !device && executionProvider !== 'cpu';
  }

  static async open(folder: ModelFolder, options: CausalLmOptions = {}): Promise<OnnxCausalLM> {
    const ep = options.executionProvider ?? 'cpu';
    const kvLocation = kvLocationFor(options.kvLocation ?? 'auto', ep);
    const threads =
      ep === 'cpu' ? resolveThreads(options.intraOpThreads ?? cpuThreadsFor(folder.onnxPath)) : 1;
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: 'all' as const,
      ...cpuThreadOptions(threads),
      ...(kvLocation === 'device' ? { preferredOutputLocation: 'gpu-buffer' as const } : {}),
    };
    let session: ort.InferenceSession;
    try {
      session = await createSession(folder.onnxPath, ep, sessionOptions);
    } catch (err) {
      const reason = describeError(err).split('\n')[0];
      // A provider that cannot start is not a broken file: tell the two apart on the CPU.
      if (ep !== 'cpu') {
        const onCpu = await createSession(folder.onnxPath, 'cpu', {}).catch(() => null);
        if (onCpu) {
          await onCpu.release();
          throw new SpecDecError(
            'EXECUTION_PROVIDER',
            `The ${ep} execution provider is not available here (${reason}). Choose auto or cpu instead; the README's GPU set-up lists what ${ep} needs.`,
            ['ep'],
          );
        }
      }
      throw new SpecDecError(
        'ONNX_INVALID',
        `Could not load ${folder.onnxPath}: ${reason}. The file may be truncated or corrupt; re-export or re-download the model.`,
      );
    }
    let graph: ModelGraph = 'exported';
    let graphNote: string | null = null;
    if (ep === 'cpu' && (options.graph ?? 'auto') === 'auto') {
      const fused = await OnnxCausalLM.openFused(folder, session, sessionOptions);
      if (fused.session) {
        await session.release();
        session = fused.session;
        graph = 'fused';
      } else graphNote = fused.reason;
    }
    let device: DeviceGraphs | null = null;
    if (kvLocation === 'device') {
      try {
        device = await openDeviceGraphs(session, folder, ep);
      } catch (err) {
        await session.release();
        throw new SpecDecError(
          'EXECUTION_PROVIDER',
          `The ${ep} provider could not keep the KV cache on the device (${describeError(err).split('\n')[0]}). Choose the host KV-cache location instead.`,
          ['kvLocation'],
        );
      }
    }
    return new OnnxCausalLM(
      folder,
      session,
      ep,
      options.providerChoice ?? null,
      device,
      graph,
      graphNote,
      threads,
    );
  }

  /**
   * The export rebuilt with fused operators (fusedGpt2.ts), opened and checked against the export
   * itself (`agreement`); with the reason instead when it is not used.
   */
  private static async openFused(
    folder: ModelFolder,
    exported: ort.InferenceSession,
    options: ort.InferenceSession.SessionOptions,
  ): Promise<{ session: ort.InferenceSession; reason: null } | { session: null; reason: string }> {
    const size = statSync(folder.onnxPath).size;
    if (size > FUSE_MAX_BYTES)
      return {
        session: null,
        reason: `over ${FUSE_MAX_BYTES / 2 ** 20} MB, where the matrix products dominate a pass`,
      };
    let bytes: Uint8Array;
    try {
      bytes = fuseGpt2(readFileSync(folder.onnxPath), folder.config);
    } catch (err) {
      if (err instanceof NotFusable) return { session: null, reason: err.message };
      throw err;
    }
    let session: ort.InferenceSession;
    try {
      session = await createSession(bytes, 'cpu', options);
    } catch (err) {
      const why = describeError(err).split('\n')[0];
      return { session: null, reason: `onnxruntime did not accept the rebuilt graph (${why})` };
    }
    let agreement: { diff: number; scale: number };
    try {
      agreement = await OnnxCausalLM.agreement(folder, exported, session);
    } catch (err) {
      await session.release();
      const why = describeError(err).split('\n')[0];
      return { session: null, reason: `the rebuilt graph failed its probe (${why})` };
    }
    const { diff, scale } = agreement;
    if (!(diff <= FUSED_TOLERANCE * scale)) {
      await session.release();
      return {
        session: null,
        reason: `the rebuilt graph's logits differ from the export's by ${diff.toPrecision(2)} (largest logit ${scale.toPrecision(3)})`,
      };
    }
    return { session, reason: null };
  }

  /**
   * The largest logit difference between two CPU sessions of one model folder over the probe (a
   * 3-token pass from an empty cache, then a 2-token pass on top: the prompt's and the
   * verification's shapes), and the largest logit (at least 1) it is judged against.
   */
  static async agreement(
    folder: ModelFolder,
    a: ort.InferenceSession,
    b: ort.InferenceSession,
  ): Promise<{ diff: number; scale: number }> {
    const [x, y] = [a, b].map((s) => new OnnxCausalLM(folder, s, 'cpu', null, null));
    const vocab = folder.config.vocabSize;
    let diff = 0;
    let scale = 1;
    for (const tokens of [
      [0, 1, 2],
      [3, 4],
    ]) {
      const ids = tokens.map((t) => t % vocab);
      const [p, q] = [(await x!.forward(ids)).data, (await y!.forward(ids)).data];
      for (let i = 0; i < p.length; i++) {
        diff = Math.max(diff, Math.abs(p[i]! - q[i]!));
        scale = Math.max(scale, Math.abs(p[i]!));
      }
    }
    return { diff, scale };
  }

  /** where the cache lives between passes */
  get kvLocation(): KvLocation {
    return this.device ? 'device' : 'host';
  }

  /** tokens currently held in the KV cache */
  get length(): number {
    return this.cacheLen;
  }

  get nPositions(): number {
    return this.folder.config.nPositions;
  }

  resetCounters(): void {
    this.passes = 0;
    this.runMs = 0;
    this.queuedMs = 0;
    this.cropMs = 0;
    this.cacheBytes = [];
    this.readBytes = [];
  }

  /** host<->device bytes per pass since resetCounters() (medians); null before any pass */
  transfer(): PassTransfer | null {
    if (this.cacheBytes.length === 0) return null;
    return { cacheBytesPerPass: median(this.cacheBytes), readBytesPerPass: median(this.readBytes) };
  }

  /** Forget the cache (the next forward starts from position 0). */
  reset(): void {
    for (const t of this.cache) this.drop(t);
    this.cache = this.emptyCache();
    this.cacheLen = 0;
    this.cropPending = false;
  }

  /**
   * Run the model over `tokens` appended after the cached ones; extends the cache by
   * tokens.length. Returns one logits row per token, or with `greedy` (on a device-resident
   * model) only the rows' greedy verdicts.
   */
  async forward(tokens: readonly number[], greedy?: GreedyRead): Promise<Logits> {
    const n = tokens.length;
    const past = this.cacheLen;
    const total = past + n;
    if (n === 0) throw new Error('forward() needs at least one token');
    if (total > this.nPositions) {
      throw new Error(`forward() past the context: ${total} > ${this.nPositions}`);
    }
    if (this.cropPending) await this.cropOnDevice();
    const ids = new BigInt64Array(n);
    for (let i = 0; i < n; i++) ids[i] = BigInt(tokens[i]!);
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, [1, n]),
      // A prefix view of a long row of ones: same buffer start, no allocation.
      attention_mask: new ort.Tensor('int64', this.ones.subarray(0, total), [1, total]),
    };
    if (this.hasPositionIds) {
      const pos = new BigInt64Array(n);
      for (let i = 0; i < n; i++) pos[i] = BigInt(past + i);
      feeds.position_ids = new ort.Tensor('int64', pos, [1, n]);
    }
    if (this.hasUseCacheBranch) {
      feeds.use_cache_branch = new ort.Tensor('bool', [past > 0], [1]);
    }
    // the host cache crosses to a GPU provider and back: the bytes in now, those out below
    let cacheBytes = 0;
    const hostCacheOnGpu = this.hostCacheOnGpu;
    for (let i = 0; i < this.pastNames.length; i++) {
      const t = this.cache[i]!;
      feeds[this.pastNames[i]!] = t;
      if (hostCacheOnGpu) cacheBytes += byteSize(t);
    }

    const t0 = performance.now();
    const queued0 = this.queuedMs;
    const out = await this.run(this.session, feeds);
    this.passes++;

    for (let i = 0; i < this.presentNames.length; i++) {
      const present = out[this.presentNames[i]!]!;
      this.drop(this.cache[i]!);
      this.cache[i] = present;
      if (hostCacheOnGpu) cacheBytes += byteSize(present);
    }
    this.cacheLen = total;
    const logits = out.logits!;
    if (this.device) {
      try {
        const read = await this.readOnDevice(logits, n, greedy);
        this.runMs += this.runningSince(t0, queued0);
        this.record(cacheBytes, read.bytes);
        return read.logits;
      } finally {
        this.drop(logits);
      }
    }
    this.runMs += this.runningSince(t0, queued0);
    this.record(cacheBytes, byteSize(logits));
    const vocab = logits.dims[2]!;
    // float16 logits become float32 once, here: every later read (argmax, softmax) is plain.
    const data =
      this.logitsType === 'float16'
        ? halfsToFloats(logits.data as Uint16Array)
        : (logits.data as Float32Array);
    return new Logits(n, vocab, data);
  }

  /**
   * The logits after `tokens`, from a fresh pass over all of them, leaving the cache and the
   * counters as they were (a run, a live one too, goes on unaffected): for the step detail view.
   */
  async probe(tokens: readonly number[]): Promise<Float32Array> {
    const saved = { cache: this.cache, cacheLen: this.cacheLen, cropPending: this.cropPending };
    const counters = {
      passes: this.passes,
      runMs: this.runMs,
      queuedMs: this.queuedMs,
      cropMs: this.cropMs,
      cacheBytes: this.cacheBytes,
      readBytes: this.readBytes,
    };
    this.cacheBytes = [];
    this.readBytes = [];
    this.cache = this.emptyCache();
    this.cacheLen = 0;
    this.cropPending = false;
    try {
      const logits = await this.forward(tokens);
      return logits.row(logits.rows - 1).slice();
    } finally {
      for (const t of this.cache) this.drop(t);
      this.cache = saved.cache;
      this.cacheLen = saved.cacheLen;
      this.cropPending = saved.cropPending;
      Object.assign(this, counters);
    }
  }

  /** Keep only the first n cached tokens (drop rejected drafts). */
  crop(n: number): void {
    if (n > this.cacheLen || n < 0)
      throw new Error(`crop(${n}) outside the cache (${this.cacheLen})`);
    if (n === this.cacheLen) return;
    if (n === 0) {
      this.reset();
      return;
    }
    if (this.device) {
      // sliced on the device before the next pass (crops in a row become one slice)
      this.cacheLen = n;
      this.cropPending = true;
      return;
    }
    const t0 = performance.now();
    const { nHead, headDim } = this.folder.config;
    const oldLen = this.cache[0]!.dims[2]!;
    const size = nHead * n * headDim;
    // The cache is [1, heads, len, headDim]: each head's rows are contiguous, so a crop is one
    // copy per head, into a buffer this model keeps for the slot (no allocation per crop). The
    // source is onnxruntime's output of the last pass, or this same buffer when cropping twice
    // in a row (copyWithin moves rows left safely then).
    const slotSize = nHead * this.nPositions * headDim;
    for (let i = 0; i < this.cache.length; i++) {
      const src = this.cache[i]!.data as CacheArray;
      const store = (this.cropBuffers[i] ??=
        this.cacheType === 'float16' ? new Uint16Array(slotSize) : new Float32Array(slotSize));
      for (let h = 0; h < nHead; h++) {
        const from = h * oldLen * headDim;
        if (src.buffer === store.buffer)
          store.copyWithin(h * n * headDim, from, from + n * headDim);
        else if (store instanceof Uint16Array)
          store.set(src.subarray(from, from + n * headDim) as Uint16Array, h * n * headDim);
        else store.set(src.subarray(from, from + n * headDim) as Float32Array, h * n * headDim);
      }
      // A prefix view (byteOffset 0) of the slot's buffer, sized exactly for the tensor.
      this.cache[i] = cacheTensor(store.subarray(0, size), [1, nHead, n, headDim]);
    }
    this.cacheLen = n;
    this.cropMs += performance.now() - t0;
  }

  async release(): Promise<void> {
    for (const t of this.cache) this.drop(t);
    this.cache = this.emptyCache();
    this.cacheLen = 0;
    await this.session.release();
    await this.device?.crop.release();
    await this.device?.head.release();
  }

  /** ms since t0 less the event-loop wait of the session.runs since then (queuedMs was queued0) */
  private runningSince(t0: number, queued0: number): number {
    return performance.now() - t0 - (this.queuedMs - queued0);
  }

  /** session.run, with a failing provider reported as such (never a bare native message) */
  private async run(
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
      // every device tensor onnxruntime hands over is counted until it is disposed (drop)
      for (const t of Object.values(out)) if (t.location === 'gpu-buffer') this.liveDeviceTensors++;
      return out;
    } catch (err) {
      if (this.executionProvider === 'cpu') throw err;
      throw new SpecDecError(
        'EXECUTION_PROVIDER',
        `A pass of ${this.folder.dir} failed on the ${this.executionProvider} execution provider (${describeError(err).split('\n')[0]}). Run again on cpu; the README's GPU set-up lists what ${this.executionProvider} needs.`,
        ['ep'],
      );
    }
  }

  /** Slice every cache slot to cacheLen on the device (a crop was asked since the last pass). */
  private async cropOnDevice(): Promise<void> {
    const t0 = performance.now();
    const feeds: Record<string, ort.Tensor> = {
      n: new ort.Tensor('int64', BigInt64Array.of(BigInt(this.cacheLen)), [1]),
    };
    this.cache.forEach((t, i) => (feeds[`in${i}`] = t));
    const queued0 = this.queuedMs;
    const out = await this.run(this.device!.crop, feeds);
    this.cache = this.cache.map((old, i) => {
      this.drop(old);
      return out[`out${i}`]!;
    });
    this.cropPending = false;
    this.cropMs += this.runningSince(t0, queued0);
  }

  /** The head graph over a pass's device logits: verdicts only, or the rows. */
  private async readOnDevice(
    logits: ort.Tensor,
    rows: number,
    greedy: GreedyRead | undefined,
  ): Promise<{ logits: Logits; bytes: number }> {
    // rows without a pick gather token 0, whose probability that then is (prob() stays right)
    const pick = new BigInt64Array(rows);
    greedy?.pick?.forEach((t, i) => (pick[i] = BigInt(Math.max(t, 0))));
    const feeds = { logits, pick: new ort.Tensor('int64', pick, [1, rows, 1]) };
    const head = this.device!.head;
    if (!greedy) {
      const out = await this.run(head, feeds, ['rows']);
      const rowsT = out.rows!;
      return {
        logits: new Logits(rows, rowsT.dims[2]!, rowsT.data as Float32Array),
        bytes: byteSize(rowsT),
      };
    }
    const out = await this.run(head, feeds, HEAD_OUTPUTS);
    const verdicts: DeviceVerdicts = {
      ids: out.ids!.data as BigInt64Array,
      top2: out.top2!.data as Float32Array,
      lse: out.lse!.data as Float32Array,
      picked: out.picked!.data as Float32Array,
      pick,
    };
    const bytes = HEAD_OUTPUTS.reduce((sum, name) => sum + byteSize(out[name]!), 0);
    return { logits: new Logits(rows, logits.dims[2]!, null, verdicts), bytes };
  }

  private record(cacheBytes: number, readBytes: number): void {
    this.cacheBytes.push(cacheBytes);
    this.readBytes.push(readBytes);
  }

  /** dispose a device tensor this model no longer needs (host tensors are the GC's) */
  private drop(t: ort.Tensor): void {
    if (t.location !== 'gpu-buffer') return;
    t.dispose();
    this.liveDeviceTensors--;
  }

  private emptyCache(): ort.Tensor[] {
    const { nHead, headDim } = this.folder.config;
    const empty = this.cacheType === 'float16' ? new Uint16Array(0) : new Float32Array(0);
    return this.pastNames.map(() => cacheTensor(empty, [1, nHead, 0, headDim]));
  }
}

/** Where the cache can live on this provider; an impossible explicit choice is an error. */
export function kvLocationFor(choice: KvLocationChoice, ep: ExecutionProvider): KvLocation {
  const can = deviceOutputs(ep);
  if (choice === 'auto') return can ? 'device' : 'host';
  if (choice === 'device' && !can) {
    throw new SpecDecError(
      'BAD_ARGUMENT',
      ep === 'cpu'
        ? 'The CPU provider has no device memory: its KV cache is always in host memory. Choose the host (or auto) KV-cache location.'
        : `onnxruntime-node cannot leave ${ep} outputs on the device (its binding keeps only WebGPU buffers there), so the KV cache comes back to host memory every pass. Choose the host (or auto) KV-cache location, or run on webgpu.`,
      ['kvLocation'],
    );
  }
  return choice;
}

/** The crop and head graphs for a device-resident model, on the model's own provider. */
async function openDeviceGraphs(
  session: ort.InferenceSession,
  folder: ModelFolder,
  ep: ExecutionProvider,
): Promise<DeviceGraphs> {
  const { nLayer, nHead, headDim } = folder.config;
  const cacheType = tensorType(session.inputMetadata, 'past_key_values.0.key', folder);
  const logitsType = tensorType(session.outputMetadata, 'logits', folder);
  const vocabDim = session.outputMetadata.find((m) => m.name === 'logits');
  const vocab = vocabDim?.isTensor ? vocabDim.shape[2] : undefined;
  const options = { graphOptimizationLevel: 'all' as const };
  const crop = await createSession(cropGraph(2 * nLayer, nHead, headDim, cacheType), ep, {
    ...options,
    preferredOutputLocation: 'gpu-buffer',
  });
  try {
    const head = await createSession(
      headGraph(typeof vocab === 'number' ? vocab : 'vocab', logitsType),
      ep,
      options,
    );
    return { crop, head };
  } catch (err) {
    await crop.release();
    throw err;
  }
}

/** bytes of a tensor's data, wherever it is */
function byteSize(t: ort.Tensor): number {
  const width = t.type === 'float16' ? 2 : t.type === 'int64' ? 8 : t.type === 'bool' ? 1 : 4;
  return t.size * width;
}

function cacheTensor(data: CacheArray, dims: number[]): ort.Tensor {
  return data instanceof Uint16Array
    ? new ort.Tensor('float16', data, dims)
    : new ort.Tensor('float32', data, dims);
}

/** a tensor input's or output's element type, which must be float32 or float16 */
function tensorType(
  metadata: readonly ort.InferenceSession.ValueMetadata[],
  name: string,
  folder: ModelFolder,
): CacheType {
  const meta = metadata.find((m) => m.name === name);
  const type = meta?.isTensor ? meta.type : undefined;
  if (type === 'float32' || type === 'float16') return type;
  throw new SpecDecError(
    'ONNX_INTERFACE',
    `${folder.onnxPath}: ${name} is ${type ?? 'not a tensor'}; the engine runs float32 and float16 GPT-2 exports (fp32, fp16 and q8 files).`,
  );
}
