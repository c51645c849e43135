/**
 * A causal LM over onnxruntime-node that owns its KV cache: the one object the decoding loops
 * drive, composed of the jobs that live in their own modules: opening it (modelOpening.ts: the
 * session, its provider and the graph it runs), one pass (passRunner.ts, its inputs passFeeds.ts,
 * its timing passTiming.ts), the cache (kvCache.ts), the device-side graphs (deviceGraphs.ts) and
 * the tree graph that takes the place of its session for token trees (treeGraph.ts).
 *
 * The decoding loops call `forward` once per model pass, so everything here is on the hot path:
 * per-call JavaScript work (tensor allocation, BigInt conversion, cache copies) competes with a
 * draft pass of a few hundred microseconds. Input buffers are reused, the cache is handed from
 * one pass to the next without copying, and cropping copies only when it must.
 */
import type * as ort from 'onnxruntime-node';
import type {
  KvLocation,
  ModelGraph,
  PassTransfer,
  ProviderChoice,
  Q4ComputeRan,
} from '../../shared/decoding';
import type { DeviceGraphs } from './deviceGraphs';
import type { DeviceTensorLedger } from './deviceTensors';
import type { ExecutionProvider } from './executionProvider';
import { kvLocationFor, type CacheType, type KvCache } from './kvCache';
import { Logits, type GreedyRead } from './logits';
import type { ModelFolder } from './modelFolder';
import { logitAgreement, openModel, type CausalLmOptions } from './modelOpening';
import { modelPasses, type PassRunner } from './passRunner';
import type { PassTimer } from './passTiming';
import { ModelTreeGraph } from './treeGraph';

// the loops, the CLI and the tests take the pass result and the cache location from the model
export { Logits, kvLocationFor, type CausalLmOptions, type GreedyRead };

export class OnnxCausalLM {
  /** float16 for fp16 exports: the cache is kept and cropped as 16-bit data */
  readonly cacheType: CacheType;
  private readonly timer: PassTimer;
  private readonly deviceTensors: DeviceTensorLedger;
  private readonly kv: KvCache;
  private readonly runner: PassRunner;
  /**
   * the graph with a tree_bias input: once it has opened and passed its check it replaces the
   * session the model opened with, and every pass runs in it (zeros fed without a tree)
   */
  private readonly treeGraph: ModelTreeGraph;
  /**
   * opens the model's graph again as `open` did (where its tree graph, opened in its place,
   * fails); the models `agreement` builds over two sessions have none
   */
  private reopen: () => Promise<ort.InferenceSession> = () =>
    Promise.reject(new Error('this model cannot open its graph again'));

  private constructor(
    readonly folder: ModelFolder,
    session: ort.InferenceSession,
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
    const passes = modelPasses(folder, session, executionProvider, device, logitWidth);
    ({ cacheType: this.cacheType, deviceTensors: this.deviceTensors, timer: this.timer } = passes);
    ({ kv: this.kv, runner: this.runner } = passes);
    this.treeGraph = new ModelTreeGraph({
      folder,
      executionProvider,
      onDevice: device !== null,
      graph,
      cacheType: this.cacheType,
      threads,
      q4Compute,
      treePass: (tokens, tree) =>
        this.runner.aside(() => this.runner.run(tokens, 1, undefined, tree)),
      probe: (path) => this.probe(path),
      releaseSession: () => this.runner.releaseSession(),
      reopenSession: async () => this.runner.switchTo(await this.reopen()),
      switchTo: (session, zeroBias) => this.runner.switchTo(session, zeroBias),
    });
  }

  static async open(folder: ModelFolder, options: CausalLmOptions = {}): Promise<OnnxCausalLM> {
    const agreement = (a: ort.InferenceSession, b: ort.InferenceSession) =>
      OnnxCausalLM.agreement(folder, a, b);
    const opened = await openModel(folder, options, agreement);
    const lm = new OnnxCausalLM(
      folder,
      opened.session,
      opened.executionProvider,
      options.providerChoice ?? null,
      opened.device,
      opened.graph,
      opened.graphNote,
      opened.threads,
      options.logitWidth ?? null,
      opened.q4Compute,
    );
    // the graph chosen again (the tree graph is only ever a CPU model's, with its cache on the host)
    lm.reopen = async () => (await openModel(folder, options, agreement)).session;
    return lm;
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
    return logitAgreement(
      folder.config.vocabSize,
      (ids) => x!.forward(ids),
      (ids) => y!.forward(ids),
    );
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

  /**
   * the graph every pass runs in: `tree` once the tree graph (the export's or the rebuild's with
   * a tree_bias input) has replaced the session the model opened with, `model` before
   */
  get passGraph(): 'model' | 'tree' {
    return this.treeGraph.active ? 'tree' : 'model';
  }

  /**
   * the model's sessions open now (the device-side helper graphs aside): 1, the tree graph's
   * taking the place of the one it opened with
   */
  get openSessions(): number {
    return this.runner.openSessions;
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
    return this.runner.run(tokens, 1, greedy);
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
    return this.runner.run(rows.flat(), rows.length);
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
    const ids = this.runner.session.inputMetadata.find((m) => m.name === 'input_ids');
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
    return this.treeGraph.note;
  }

  /**
   * Open the graph with a tree_bias input, once, before anything is timed, check it on a small
   * tree against the model's own passes (treeGraph.ts: refused, with the difference, where they
   * differ), and make it the model's only session: the one it opened with is released (before
   * the tree graph opens: one copy of the weights at a time) and every later pass, a chain's and
   * the baseline's too, runs in the tree graph with a zero bias (bit for bit the same logits:
   * why a baseline before it and trees after it compare like with like, in treeGraph.ts).
   */
  async prepareTreeMask(): Promise<void> {
    await this.treeGraph.prepare();
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
    return this.runner.run(tokens, 1, undefined, { positions, bias });
  }

  /** Keep the first `prefix` cached positions, then `positions` (kvCache.ts keepPositions). */
  keepPositions(prefix: number, positions: readonly number[]): void {
    this.kv.keepPositions(prefix, positions);
  }

  /**
   * The logits after `tokens`, from a fresh pass over all of them, leaving the cache and the
   * counters as they were (a run, a live one too, goes on unaffected): for the step detail view.
   */
  async probe(tokens: readonly number[]): Promise<Float32Array> {
    return this.runner.aside(async () => {
      const logits = await this.forward(tokens);
      return logits.row(logits.rows - 1).slice();
    });
  }

  /** Keep only the first n cached tokens (drop rejected drafts). */
  crop(n: number): void {
    this.kv.crop(n);
  }

  async release(): Promise<void> {
    this.kv.reset();
    await this.runner.release();
    await this.device?.crop.release();
    await this.device?.gather.release();
    await this.device?.head.release();
  }
}
