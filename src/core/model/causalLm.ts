/**
 * A GPT-2 causal LM over onnxruntime-node that owns its KV cache.
 *
 * The decoding loops call `forward` once per model pass, so everything here is on the hot path:
 * per-call JavaScript work (tensor allocation, BigInt conversion, cache copies) competes with a
 * draft pass of a few hundred microseconds. Input buffers are reused, the cache is handed from
 * one pass to the next without copying, and cropping copies only when it must.
 */
import * as ort from 'onnxruntime-node';
import { SpecDecError, describeError } from '../errors';
import type { ProviderChoice } from '../../shared/decoding';
import { createSession, type ExecutionProvider } from './executionProvider';
import type { ModelFolder } from './modelFolder';
import { halfsToFloats } from './float16';

/** The KV cache's element types: fp32 and q8 exports keep a float32 cache, fp16 exports float16. */
type CacheType = 'float32' | 'float16';
type CacheArray = Float32Array | Uint16Array;

export interface CausalLmOptions {
  /** default cpu; providerProbe.ts chooses one for `auto` */
  executionProvider?: ExecutionProvider;
  /** how the provider was chosen, kept for reports */
  providerChoice?: ProviderChoice;
  /** threads for one operator; small models are fastest on 1 (the default) */
  intraOpThreads?: number;
}

/** The logits of the new positions of one pass, row-major [rows, vocab]. */
export class Logits {
  constructor(
    readonly data: Float32Array,
    readonly rows: number,
    readonly vocab: number,
  ) {}

  row(i: number): Float32Array {
    return this.data.subarray(i * this.vocab, (i + 1) * this.vocab);
  }
}

export class OnnxCausalLM {
  /** model passes (session.run calls) since creation or the last resetCounters() */
  passes = 0;
  /** milliseconds spent inside session.run since creation or the last resetCounters() */
  runMs = 0;
  /** milliseconds spent cropping the KV cache (copying the kept prefix) */
  cropMs = 0;

  private cache: ort.Tensor[];
  /** one reusable buffer per cache slot, for crops */
  private readonly cropBuffers: CacheArray[] = [];
  /** float16 for fp16 exports: the cache is kept and cropped as 16-bit data */
  readonly cacheType: CacheType;
  private readonly logitsType: CacheType;
  private cacheLen = 0;
  private readonly ones: BigInt64Array;
  private readonly pastNames: string[];
  private readonly presentNames: string[];
  private readonly hasPositionIds: boolean;
  private readonly hasUseCacheBranch: boolean;

  private constructor(
    readonly folder: ModelFolder,
    private readonly session: ort.InferenceSession,
    readonly executionProvider: ExecutionProvider,
    /** what was asked, tried and measured; null when the provider was simply given */
    readonly providerChoice: ProviderChoice | null,
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
  }

  static async open(folder: ModelFolder, options: CausalLmOptions = {}): Promise<OnnxCausalLM> {
    const ep = options.executionProvider ?? 'cpu';
    const sessionOptions = {
      graphOptimizationLevel: 'all' as const,
      intraOpNumThreads: options.intraOpThreads ?? 1,
      interOpNumThreads: 1,
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
    return new OnnxCausalLM(folder, session, ep, options.providerChoice ?? null);
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
    this.cropMs = 0;
  }

  /** Forget the cache (the next forward starts from position 0). */
  reset(): void {
    this.cache = this.emptyCache();
    this.cacheLen = 0;
  }

  /**
   * Run the model over `tokens` appended after the cached ones; returns one logits row per token
   * and extends the cache by tokens.length.
   */
  async forward(tokens: readonly number[]): Promise<Logits> {
    const n = tokens.length;
    const past = this.cacheLen;
    const total = past + n;
    if (n === 0) throw new Error('forward() needs at least one token');
    if (total > this.nPositions) {
      throw new Error(`forward() past the context: ${total} > ${this.nPositions}`);
    }
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
    for (let i = 0; i < this.pastNames.length; i++) feeds[this.pastNames[i]!] = this.cache[i]!;

    const t0 = performance.now();
    const out = await this.session.run(feeds);
    this.runMs += performance.now() - t0;
    this.passes++;

    for (let i = 0; i < this.presentNames.length; i++) this.cache[i] = out[this.presentNames[i]!]!;
    this.cacheLen = total;
    const logits = out.logits!;
    const vocab = logits.dims[2]!;
    // float16 logits become float32 once, here: every later read (argmax, softmax) is plain.
    const data =
      this.logitsType === 'float16'
        ? halfsToFloats(logits.data as Uint16Array)
        : (logits.data as Float32Array);
    return new Logits(data, n, vocab);
  }

  /**
   * The logits after `tokens`, from a fresh pass over all of them, leaving the cache and the
   * counters as they were (a run, a live one too, goes on unaffected): for the step detail view.
   */
  async probe(tokens: readonly number[]): Promise<Float32Array> {
    const saved = { cache: this.cache, cacheLen: this.cacheLen };
    const counters = { passes: this.passes, runMs: this.runMs, cropMs: this.cropMs };
    this.cache = this.emptyCache();
    this.cacheLen = 0;
    try {
      const logits = await this.forward(tokens);
      return logits.row(logits.rows - 1).slice();
    } finally {
      this.cache = saved.cache;
      this.cacheLen = saved.cacheLen;
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
    const t0 = performance.now();
    const { nHead, headDim } = this.folder.config;
    const oldLen = this.cacheLen;
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
    await this.session.release();
  }

  private emptyCache(): ort.Tensor[] {
    const { nHead, headDim } = this.folder.config;
    const empty = this.cacheType === 'float16' ? new Uint16Array(0) : new Float32Array(0);
    return this.pastNames.map(() => cacheTensor(empty, [1, nHead, 0, headDim]));
  }
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
