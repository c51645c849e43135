/**
 * A model's KV cache between passes: what each pass feeds as `past` and takes back as `present`,
 * in host memory or on the device (`kvLocation`), and cropped when rejected drafts are dropped.
 * Crop keeps a prefix; `selectRows` gathers batch rows (a token tree's paths: the prefix tiled to
 * one row per path, then the accepted path's row kept) and `keepPositions` positions (a tree
 * verified under its mask: the accepted path's nodes), on the host or on the device.
 *
 * - host: onnxruntime returns every output to JavaScript memory (its default), and the next pass
 *   sends the cache back. On the CPU provider that is the only choice and costs no device copy;
 *   on a GPU it costs the whole cache down and up every pass (counted, `countTransfers`).
 * - device (GPU providers that onnxruntime-node can leave outputs on: WebGPU): a pass's present
 *   slots stay as device tensors and go straight back in as the next pass's past; a crop slices them on the
 *   device (onnxGraph.ts's crop graph, run lazily before the next pass), and a gather of rows or
 *   positions runs deviceGraphs.ts's gather graph there the same way (crops folded into it), so
 *   no cache byte crosses to the host. Every device tensor is disposed when it is replaced
 *   (deviceTensors.ts).
 */
import * as ort from 'onnxruntime-node';
import type { KvLocation, KvLocationChoice } from '../../shared/decoding';
import { SpecDecError } from '../errors';
import { cacheSlotDims, type CacheSlot, type ModelConfig } from './architectures/architecture';
import type { DeviceTensorLedger } from './deviceTensors';
import { deviceOutputs, type ExecutionProvider } from './executionProvider';
import { byteSize, type PassTimer } from './passTiming';

/** The KV cache's element types: fp32 and q8 exports keep a float32 cache, fp16 exports float16. */
export type CacheType = 'float32' | 'float16';
type CacheArray = Float32Array | Uint16Array;

/** What `detach` takes away and `restore` puts back. */
export interface DetachedCache {
  slots: ort.Tensor[];
  length: number;
  batch: number;
  cropPending: boolean;
  pendingRows: number[] | null;
  pendingPositions: number[] | null;
}

export class KvCache {
  /** one tensor per slot (cacheSlots' order) */
  private tensors: ort.Tensor[];
  /** one reusable buffer per slot, for host crops */
  private readonly cropBuffers: CacheArray[] = [];
  private cacheLen = 0;
  /** batch rows: 1, but while a token tree's paths run as rows */
  private rows = 1;
  /** device-resident: the cache tensors are longer than cacheLen until the next pass slices them */
  private cropPending = false;
  /** device-resident: the batch rows and positions (of the tensors) the next pass gathers first */
  private pendingRows: number[] | null = null;
  private pendingPositions: number[] | null = null;

  constructor(
    private readonly slots: readonly CacheSlot[],
    /** float16 for fp16 exports: the cache is kept and cropped as 16-bit data */
    readonly cacheType: CacheType,
    private readonly config: ModelConfig,
    private readonly deviceTensors: DeviceTensorLedger,
    private readonly timer: PassTimer,
    /** the device-side crop graph's session; null when the cache lives on the host */
    private readonly deviceCrop: ort.InferenceSession | null,
    /** the device-side gather graph's session (rows and positions); null on the host */
    private readonly deviceGather: ort.InferenceSession | null,
    /** a GPU provider with the cache in host memory: every pass copies it both ways */
    private readonly countTransfers: boolean,
  ) {
    this.tensors = this.empty();
  }

  /** where the cache lives between passes */
  get location(): KvLocation {
    return this.deviceCrop ? 'device' : 'host';
  }

  /** tokens currently held */
  get length(): number {
    return this.cacheLen;
  }

  /** batch rows held (1 but while a token tree's paths run as rows) */
  get batch(): number {
    return this.rows;
  }

  /**
   * Add the cache to a pass's feeds (a crop asked since the last pass is done first, on the
   * device); returns the bytes that cross to the device (0 unless `countTransfers`).
   */
  async feedInto(feeds: Record<string, ort.Tensor>): Promise<number> {
    // the crop graph takes one batch row: anything else is a gather (a crop folded in)
    const tiled = (this.tensors[0]?.dims[0] ?? 1) !== 1;
    if (this.pendingRows || this.pendingPositions || (this.cropPending && tiled))
      await this.gatherOnDevice();
    else if (this.cropPending) await this.cropOnDevice();
    let bytes = 0;
    for (let i = 0; i < this.slots.length; i++) {
      const t = this.tensors[i]!;
      feeds[this.slots[i]!.past] = t;
      if (this.countTransfers) bytes += byteSize(t);
    }
    return bytes;
  }

  /**
   * Take a pass's `present` outputs as the cache, now `length` tokens long; returns the bytes that
   * came back from the device (0 unless `countTransfers`).
   */
  takePresent(outputs: ort.InferenceSession.ReturnType, length: number): number {
    let bytes = 0;
    for (let i = 0; i < this.slots.length; i++) {
      const present = outputs[this.slots[i]!.present]!;
      this.deviceTensors.drop(this.tensors[i]!);
      this.tensors[i] = present;
      if (this.countTransfers) bytes += byteSize(present);
    }
    this.cacheLen = length;
    this.rows = this.tensors[0]?.dims[0] ?? 1;
    return bytes;
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
    if (this.deviceCrop) {
      // sliced on the device before the next pass (crops in a row become one slice)
      this.cacheLen = n;
      this.cropPending = true;
      if (this.pendingPositions) this.pendingPositions = this.pendingPositions.slice(0, n);
      return;
    }
    const t0 = performance.now();
    const { headDim, nPositions } = this.config;
    // every (batch row, head) block is cropped alike: the blocks of a batch are heads to a crop
    const nKvHeads = this.config.nKvHeads * this.rows;
    const oldLen = this.tensors[0]!.dims[2]!;
    const size = nKvHeads * n * headDim;
    // A slot is [batch, heads, len, headDim]: each head's rows are contiguous, so a crop is one
    // copy per head, into a buffer this cache keeps for the slot (no allocation per crop). The
    // source is onnxruntime's output of the last pass, or this same buffer when cropping twice
    // in a row (copyWithin moves rows left safely then). A buffer grows (doubling, up to the
    // context) as crops need it, rather than being sized from the context at the first crop.
    for (let i = 0; i < this.tensors.length; i++) {
      const src = this.tensors[i]!.data as CacheArray;
      let store = this.cropBuffers[i];
      if (!store || store.length < size) {
        const held = store ? store.length / (nKvHeads * headDim) : 0;
        const positions = Math.max(n, Math.min(nPositions, Math.max(2 * held, 64)));
        const slotSize = nKvHeads * positions * headDim;
        store =
          this.cacheType === 'float16' ? new Uint16Array(slotSize) : new Float32Array(slotSize);
        this.cropBuffers[i] = store;
      }
      for (let h = 0; h < nKvHeads; h++) {
        const from = h * oldLen * headDim;
        if (src.buffer === store.buffer)
          store.copyWithin(h * n * headDim, from, from + n * headDim);
        else if (store instanceof Uint16Array)
          store.set(src.subarray(from, from + n * headDim) as Uint16Array, h * n * headDim);
        else store.set(src.subarray(from, from + n * headDim) as Float32Array, h * n * headDim);
      }
      // A prefix view (byteOffset 0) of the slot's buffer, sized exactly for the tensor.
      this.tensors[i] = cacheTensor(
        store.subarray(0, size),
        cacheSlotDims(this.config, n, this.rows),
      );
    }
    this.cacheLen = n;
    this.timer.cropMs += performance.now() - t0;
  }

  /**
   * Gather batch rows: row i of the result is row `from[i]` of the cache. [0, 0, 0] tiles a
   * one-row prefix into three; [2] keeps only row 2 (the accepted path's). On the device the
   * rows are gathered there before the next pass (selections in a row compose into one).
   */
  selectRows(from: readonly number[]): void {
    if (from.length === 0) throw new Error('selectRows() needs at least one row');
    const bad = from.find((r) => !Number.isInteger(r) || r < 0 || r >= this.rows);
    if (bad !== undefined)
      throw new Error(`selectRows: row ${bad} outside the batch (${this.rows})`);
    if (from.length === this.rows && from.every((r, i) => r === i)) return;
    if (this.deviceCrop) {
      const current = this.pendingRows;
      this.pendingRows = from.map((r) => (current ? current[r]! : r));
      this.rows = from.length;
      return;
    }
    const t0 = performance.now();
    const { nKvHeads, headDim } = this.config;
    const len = this.tensors[0]!.dims[2]!;
    const block = nKvHeads * len * headDim; // one batch row of a slot
    const dims = cacheSlotDims(this.config, len, from.length);
    this.tensors = this.tensors.map((t) => {
      const src = t.data as CacheArray;
      const out =
        src instanceof Uint16Array
          ? new Uint16Array(block * from.length)
          : new Float32Array(block * from.length);
      from.forEach((row, i) => {
        const part = src.subarray(row * block, (row + 1) * block);
        if (out instanceof Uint16Array) out.set(part as Uint16Array, i * block);
        else out.set(part as Float32Array, i * block);
      });
      return cacheTensor(out, dims);
    });
    this.rows = from.length;
    this.timer.cropMs += performance.now() - t0;
  }

  /**
   * Keep the first `prefix` positions and then `positions`, in that order (a token tree verified
   * under its mask: the prefix, then the accepted path's nodes among all the tree's). Caches of
   * one row only; on the device gathered there before the next pass.
   */
  keepPositions(prefix: number, positions: readonly number[]): void {
    if (this.rows !== 1) throw new Error('keepPositions: a one-row cache only');
    const bad = [prefix - 1, ...positions].find((p) => p >= this.cacheLen);
    if (prefix < 0 || bad !== undefined)
      throw new Error(
        `keepPositions: position ${bad ?? prefix} outside the cache (${this.cacheLen})`,
      );
    if (this.deviceCrop) {
      const wanted = [...Array.from({ length: prefix }, (_, i) => i), ...positions];
      const current = this.pendingPositions;
      this.pendingPositions = wanted.map((p) => (current ? current[p]! : p));
      this.cacheLen = wanted.length;
      return;
    }
    const t0 = performance.now();
    const { nKvHeads, headDim } = this.config;
    const len = this.tensors[0]!.dims[2]!;
    const kept = prefix + positions.length;
    this.tensors = this.tensors.map((t) => {
      const src = t.data as CacheArray;
      const out =
        src instanceof Uint16Array
          ? new Uint16Array(nKvHeads * kept * headDim)
          : new Float32Array(nKvHeads * kept * headDim);
      const copy = (from: number, count: number, to: number): void => {
        const part = src.subarray(from * headDim, (from + count) * headDim);
        if (out instanceof Uint16Array) out.set(part as Uint16Array, to * headDim);
        else out.set(part as Float32Array, to * headDim);
      };
      for (let h = 0; h < nKvHeads; h++) {
        copy(h * len, prefix, h * kept);
        positions.forEach((p, i) => copy(h * len + p, 1, h * kept + prefix + i));
      }
      return cacheTensor(out, cacheSlotDims(this.config, kept));
    });
    this.cacheLen = kept;
    this.timer.cropMs += performance.now() - t0;
  }

  /** Forget the cache (the next pass starts from position 0). */
  reset(): void {
    for (const t of this.tensors) this.deviceTensors.drop(t);
    this.tensors = this.empty();
    this.cacheLen = 0;
    this.rows = 1;
    this.cropPending = false;
    this.pendingRows = null;
    this.pendingPositions = null;
  }

  /** Set the cache aside, leaving an empty one, for a side pass that `restore` then undoes. */
  detach(): DetachedCache {
    const saved = {
      slots: this.tensors,
      length: this.cacheLen,
      batch: this.rows,
      cropPending: this.cropPending,
      pendingRows: this.pendingRows,
      pendingPositions: this.pendingPositions,
    };
    this.tensors = this.empty();
    this.cacheLen = 0;
    this.rows = 1;
    this.cropPending = false;
    this.pendingRows = null;
    this.pendingPositions = null;
    return saved;
  }

  /** Put a detached cache back, disposing of what the side pass left. */
  restore(saved: DetachedCache): void {
    for (const t of this.tensors) this.deviceTensors.drop(t);
    this.tensors = saved.slots;
    this.cacheLen = saved.length;
    this.rows = saved.batch;
    this.cropPending = saved.cropPending;
    this.pendingRows = saved.pendingRows;
    this.pendingPositions = saved.pendingPositions;
  }

  /**
   * Gather the pending batch rows and positions (a crop's prefix where none are pending) of
   * every slot on the device: one run of the gather graph, nothing copied to the host.
   */
  private async gatherOnDevice(): Promise<void> {
    const t0 = performance.now();
    const batch = this.tensors[0]!.dims[0]!;
    const rows = this.pendingRows ?? Array.from({ length: batch }, (_, i) => i);
    const positions = this.pendingPositions ?? Array.from({ length: this.cacheLen }, (_, i) => i);
    const int64s = (values: number[]): ort.Tensor =>
      new ort.Tensor('int64', BigInt64Array.from(values, BigInt), [values.length]);
    const feeds: Record<string, ort.Tensor> = {
      rows: int64s(rows),
      positions: int64s(positions),
    };
    this.tensors.forEach((t, i) => (feeds[`in${i}`] = t));
    const queued0 = this.timer.queuedMs;
    const out = await this.timer.run(this.deviceGather!, feeds);
    this.tensors = this.tensors.map((old, i) => {
      this.deviceTensors.drop(old);
      return out[`out${i}`]!;
    });
    this.pendingRows = null;
    this.pendingPositions = null;
    this.cropPending = false;
    this.timer.cropMs += this.timer.runningSince(t0, queued0);
  }

  /** Slice every slot to cacheLen on the device (a crop was asked since the last pass). */
  private async cropOnDevice(): Promise<void> {
    const t0 = performance.now();
    const feeds: Record<string, ort.Tensor> = {
      n: new ort.Tensor('int64', BigInt64Array.of(BigInt(this.cacheLen)), [1]),
    };
    this.tensors.forEach((t, i) => (feeds[`in${i}`] = t));
    const queued0 = this.timer.queuedMs;
    const out = await this.timer.run(this.deviceCrop!, feeds);
    this.tensors = this.tensors.map((old, i) => {
      this.deviceTensors.drop(old);
      return out[`out${i}`]!;
    });
    this.cropPending = false;
    this.timer.cropMs += this.timer.runningSince(t0, queued0);
  }

  private empty(): ort.Tensor[] {
    const empty = this.cacheType === 'float16' ? new Uint16Array(0) : new Float32Array(0);
    return this.slots.map(() => cacheTensor(empty, cacheSlotDims(this.config, 0)));
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

function cacheTensor(data: CacheArray, dims: number[]): ort.Tensor {
  return data instanceof Uint16Array
    ? new ort.Tensor('float16', data, dims)
    : new ort.Tensor('float32', data, dims);
}
