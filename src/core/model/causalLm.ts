/**
 * A causal LM over onnxruntime-node that owns its KV cache: the one object the decoding loops
 * drive, composed of the jobs that live in their own modules: its architecture (architectures/),
 * the session and its provider (modelSession.ts), the graph it runs (rebuiltGraph.ts), a pass's
 * inputs (passFeeds.ts), the cache (kvCache.ts), the device-side graphs (deviceGraphs.ts) and the
 * pass timing (passTiming.ts).
 *
 * The decoding loops call `forward` once per model pass, so everything here is on the hot path:
 * per-call JavaScript work (tensor allocation, BigInt conversion, cache copies) competes with a
 * draft pass of a few hundred microseconds. Input buffers are reused, the cache is handed from
 * one pass to the next without copying, and cropping copies only when it must.
 */
import type * as ort from 'onnxruntime-node';
import type {
  GraphChoice,
  KvLocation,
  KvLocationChoice,
  ModelGraph,
  PassTransfer,
  ProviderChoice,
  Q4Compute,
  Q4ComputeRan,
} from '../../shared/decoding';
import { SpecDecError, describeError } from '../errors';
import { architectureOf } from './architectures/registry';
import { cpuThreadsFor, resolveThreads } from './cpuThreads';
import { readDecoderInterface } from './decoderInterface';
import { openDeviceGraphs, readOnDevice, type DeviceGraphs } from './deviceGraphs';
import { DeviceTensorLedger } from './deviceTensors';
import type { ExecutionProvider } from './executionProvider';
import { halfsToFloats } from './float16';
import { KvCache, kvLocationFor, type CacheType } from './kvCache';
import { Logits, type GreedyRead } from './logits';
import { modelSessionOptions, openModelSession } from './modelSession';
import { readFileSync } from 'node:fs';
import type { ModelFolder } from './modelFolder';
import { PassFeeds } from './passFeeds';
import { byteSize, PassTimer } from './passTiming';
import { chooseGraph } from './rebuiltGraph';
import {
  openTreeMaskSession,
  TREE_MASK_TOLERANCE,
  treeMaskGraph,
  treeMaskProbe,
  treeMaskProblem,
} from './treeMaskSession';
import { prepareGraph } from './matmulNBits';

// the loops, the CLI and the tests take the pass result and the cache location from the model
export { Logits, kvLocationFor, type GreedyRead };

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
   * operators (rebuiltGraph.ts) when the architecture has a rebuild, the export is one it
   * rebuilds, and the rebuilt graph agrees with it; exported: always run the file as it is
   */
  graph?: GraphChoice;
  /**
   * read each pass's logits over their first N ids only (a pair whose logit widths differ reads
   * both models over the ids they share: pair.ts); default all of them
   */
  logitWidth?: number;
  /** how the CPU provider computes 4-bit MatMulNBits products (default int8: matmulNBits.ts) */
  q4Compute?: Q4Compute;
}

export class OnnxCausalLM {
  /** float16 for fp16 exports: the cache is kept and cropped as 16-bit data */
  readonly cacheType: CacheType;
  private readonly logitsType: CacheType;
  private readonly timer: PassTimer;
  private readonly deviceTensors = new DeviceTensorLedger();
  private readonly kv: KvCache;
  private readonly feeds: PassFeeds;
  /** the rebuild with a tree_bias input, opened for the first token tree verified under a mask */
  private treeSession: ort.InferenceSession | null = null;
  /** why the tree-mask graph does not build (null: it does), found on first asking */
  private treeMask: string | null | undefined = undefined;

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
    /** the ids a pass's logits are read over; null: all of the model's rows */
    readonly logitWidth: number | null = null,
    /** what its 4-bit MatMulNBits products ran in; null when it has none */
    readonly q4Compute: Q4ComputeRan | null = null,
  ) {
    const architecture = architectureOf(folder.config.modelType);
    const { slots, cacheType, logitsType } = readDecoderInterface(session, folder, architecture);
    this.cacheType = cacheType;
    this.logitsType = logitsType;
    this.timer = new PassTimer(folder.dir, executionProvider, this.deviceTensors);
    this.feeds = new PassFeeds(architecture.inputs, session.inputNames, folder.config.nPositions);
    this.kv = new KvCache(
      slots,
      cacheType,
      folder.config,
      this.deviceTensors,
      this.timer,
      device?.crop ?? null,
      device?.gather ?? null,
      // a GPU provider with the cache in host memory: every pass copies it both ways
      !device && executionProvider !== 'cpu',
    );
  }

  static async open(folder: ModelFolder, options: CausalLmOptions = {}): Promise<OnnxCausalLM> {
    const architecture = architectureOf(folder.config.modelType);
    const ep = options.executionProvider ?? 'cpu';
    const kvLocation = kvLocationFor(options.kvLocation ?? 'auto', ep);
    const threads =
      ep === 'cpu' ? resolveThreads(options.intraOpThreads ?? cpuThreadsFor(folder.onnxPath)) : 1;
    const sessionOptions = modelSessionOptions(threads, kvLocation);
    const opened = await openModelSession(folder, ep, sessionOptions, options.q4Compute);
    const exported = opened.session;
    const { session, graph, note } = await chooseGraph(
      folder,
      architecture,
      exported,
      ep,
      options.graph ?? 'auto',
      sessionOptions,
      (a, b) => OnnxCausalLM.agreement(folder, a, b),
    );
    let device: DeviceGraphs | null = null;
    if (kvLocation === 'device') {
      try {
        device = await openDeviceGraphs(
          session,
          folder,
          architecture,
          ep,
          options.logitWidth ?? null,
        );
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
      note,
      threads,
      options.logitWidth ?? null,
      opened.q4Compute,
    );
  }

  /**
   * The largest logit difference between two CPU sessions of one model folder over the check
   * (a 3-token pass from an empty cache, then a 2-token pass on top: the prompt's and the
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

  /** model passes (session.run calls) since creation or the last resetCounters() */
  get passes(): number {
    return this.timer.passes;
  }

  /** milliseconds inside session.run since creation or the last resetCounters() (passTiming.ts) */
  get runMs(): number {
    return this.timer.runMs;
  }

  /** milliseconds of whole passes, feeds to logits, less the event-loop wait (passTiming.ts) */
  get passMs(): number {
    return this.timer.passMs;
  }

  /** milliseconds the passes waited for the event loop before onnxruntime started them */
  get queuedMs(): number {
    return this.timer.queuedMs;
  }

  /** milliseconds spent cropping the KV cache (copying the kept prefix, or slicing on the device) */
  get cropMs(): number {
    return this.timer.cropMs;
  }

  /**
   * device tensors onnxruntime has handed this model and it has not disposed yet: its cache
   * (2 per layer) between passes, on a device-resident model; 0 elsewhere
   */
  get liveDeviceTensors(): number {
    return this.deviceTensors.live;
  }

  /** where the cache lives between passes */
  get kvLocation(): KvLocation {
    return this.kv.location;
  }

  /** tokens currently held in the KV cache */
  get length(): number {
    return this.kv.length;
  }

  get nPositions(): number {
    return this.folder.config.nPositions;
  }

  resetCounters(): void {
    this.timer.reset();
  }

  /** host<->device bytes per pass since resetCounters() (medians); null before any pass */
  transfer(): PassTransfer | null {
    return this.timer.transfer();
  }

  /** Forget the cache (the next forward starts from position 0). */
  reset(): void {
    this.kv.reset();
  }

  /**
   * Run the model over `tokens` appended after the cached ones; extends the cache by
   * tokens.length. Returns one logits row per token, or with `greedy` (on a device-resident
   * model) only the rows' greedy verdicts.
   */
  async forward(tokens: readonly number[], greedy?: GreedyRead): Promise<Logits> {
    if (this.kv.batch !== 1)
      throw new Error(`forward() on a ${this.kv.batch}-row cache: forwardRows() feeds rows`);
    return this.pass(tokens, 1, greedy);
  }

  /**
   * One pass over batch rows of equal length (a token tree's paths, or one depth's nodes), each
   * after its own cache row: the cache must hold rows.length rows (selectRows). Returns the
   * logits row after row: row r's i-th token is logits row r * n + i.
   */
  async forwardRows(rows: readonly (readonly number[])[]): Promise<Logits> {
    const n = rows[0]?.length ?? 0;
    if (rows.length !== this.kv.batch)
      throw new Error(`forwardRows(): ${rows.length} rows on a ${this.kv.batch}-row cache`);
    if (rows.some((r) => r.length !== n))
      throw new Error('forwardRows(): rows of different lengths');
    return this.pass(rows.flat(), rows.length);
  }

  /** Batch rows of the cache, row i being row from[i] (kvCache.ts selectRows). */
  selectRows(from: readonly number[]): void {
    this.kv.selectRows(from);
  }

  /**
   * whether the graph takes more than one batch row (a token tree's paths or nodes as rows): its
   * input_ids' first dimension is not fixed at 1
   */
  get takesBatchRows(): boolean {
    const ids = this.session.inputMetadata.find((m) => m.name === 'input_ids');
    return !(ids?.isTensor && ids.shape[0] === 1);
  }

  /** the cache's batch rows (1 but while a token tree's paths run as rows) */
  get batch(): number {
    return this.kv.batch;
  }

  /**
   * whether a token tree can be verified here in one pass under its mask: on the CPU provider
   * with the cache in host memory, in the fused rebuild's tree_bias variant or the export with
   * the bias added to its attention (treeMaskSession.ts)
   */
  get takesTreeMask(): boolean {
    return this.treeMaskNote === null;
  }

  /** why a token tree cannot be verified here under its mask; null when it can */
  get treeMaskNote(): string | null {
    if (this.executionProvider !== 'cpu' || this.device)
      return `the ${this.executionProvider} provider${this.device ? ' with the cache on the device' : ''} verifies trees as rows`;
    if (this.treeMask === undefined) {
      const architecture = architectureOf(this.folder.config.modelType);
      const problem = treeMaskProblem(this.folder, architecture, this.graph, this.cacheType);
      this.treeMask = problem && `its graph takes no tree mask: ${problem}`;
    }
    return this.treeMask;
  }

  /** the export's bytes as its session opened them: 4-bit products at the same accuracy level */
  private exportBytes(): Uint8Array {
    const q4 = this.q4Compute === 'int8' ? 'int8' : 'exported';
    return prepareGraph(this.folder.onnxPath, true, q4).bytes ?? readFileSync(this.folder.onnxPath);
  }

  /**
   * Open the graph with a tree_bias input (a second session over the same weights), once,
   * before anything is timed, and check it on a small tree against the model's own passes
   * (treeAgreement): refused, with the difference, where they differ. forwardTree opens it
   * itself when it was not.
   */
  async prepareTreeMask(): Promise<void> {
    if (this.treeSession || !this.takesTreeMask) return;
    const built = treeMaskGraph(
      this.folder,
      architectureOf(this.folder.config.modelType),
      this.graph,
      this.cacheType,
      () => this.exportBytes(),
    );
    if ('reason' in built) throw new Error(`prepareTreeMask(): ${built.reason}`);
    const session = await openTreeMaskSession(built, modelSessionOptions(this.threads, 'host'));
    const { diff, scale } = await this.treeAgreement(session);
    if (!(diff <= TREE_MASK_TOLERANCE * scale)) {
      await session.release();
      this.treeMask = `its tree graph's logits differ from the export's by ${diff.toPrecision(2)} (largest logit ${scale.toPrecision(3)})`;
      throw new SpecDecError(
        'BAD_ARGUMENT',
        `The target cannot verify a tree in one pass under its mask: ${this.treeMask}. Verify the tree as rows (--tree-verify rows).`,
      );
    }
    this.treeSession = session;
  }

  /**
   * A tree pass in `session` against the model's own passes over each node's path alone
   * (treeMaskProbe), from an empty cache, leaving the cache and the counters as they were: the
   * largest logit difference and the largest logit (at least 1).
   */
  private async treeAgreement(
    session: ort.InferenceSession,
  ): Promise<{ diff: number; scale: number }> {
    const probe = treeMaskProbe(this.folder.config.vocabSize);
    const cache = this.kv.detach();
    const counters = this.timer.snapshot();
    let tree: Logits;
    try {
      tree = await this.pass(probe.tokens, 1, undefined, { session, ...probe });
    } finally {
      this.kv.restore(cache);
      this.timer.restore(counters);
    }
    let diff = 0;
    let scale = 1;
    for (const { row, path } of probe.rows) {
      const own = await this.probe(path);
      const got = tree.row(row);
      for (let i = 0; i < own.length; i++) {
        diff = Math.max(diff, Math.abs(own[i]! - got[i]!));
        scale = Math.max(scale, Math.abs(own[i]!));
      }
    }
    return { diff, scale };
  }

  /**
   * One pass over a token tree flattened after the tokens before it: `positions` each token's
   * position (a node's: the pending token's + its depth), `bias` the mask added to attention's
   * scores, [tokens, cached + tokens] row-major (0: attend, large negative: not). Extends the
   * cache by every token; keepPositions then keeps the accepted path's.
   */
  async forwardTree(
    tokens: readonly number[],
    positions: readonly number[],
    bias: Float32Array,
  ): Promise<Logits> {
    if (!this.takesTreeMask)
      throw new Error(`forwardTree(): no tree mask here (${this.treeMaskNote})`);
    if (this.kv.batch !== 1) throw new Error('forwardTree(): a one-row cache only');
    await this.prepareTreeMask();
    return this.pass(tokens, 1, undefined, { session: this.treeSession!, positions, bias });
  }

  /** Keep the first `prefix` cached positions, then `positions` (kvCache.ts keepPositions). */
  keepPositions(prefix: number, positions: readonly number[]): void {
    this.kv.keepPositions(prefix, positions);
  }

  private async pass(
    tokens: readonly number[],
    batch: number,
    greedy?: GreedyRead,
    tree?: { session: ort.InferenceSession; positions: readonly number[]; bias: Float32Array },
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
    const out = await this.timer.run(tree?.session ?? this.session, feeds);
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
   * The logits after `tokens`, from a fresh pass over all of them, leaving the cache and the
   * counters as they were (a run, a live one too, goes on unaffected): for the step detail view.
   */
  async probe(tokens: readonly number[]): Promise<Float32Array> {
    const cache = this.kv.detach();
    const counters = this.timer.snapshot();
    try {
      const logits = await this.forward(tokens);
      return logits.row(logits.rows - 1).slice();
    } finally {
      this.kv.restore(cache);
      this.timer.restore(counters);
    }
  }

  /** Keep only the first n cached tokens (drop rejected drafts). */
  crop(n: number): void {
    this.kv.crop(n);
  }

  async release(): Promise<void> {
    this.kv.reset();
    await this.session.release();
    await this.treeSession?.release();
    await this.device?.crop.release();
    await this.device?.gather.release();
    await this.device?.head.release();
  }
}
