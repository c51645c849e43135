/**
 * What an ONNX file says about its own size, read from the file's structure without loading its
 * weights: the graph's inputs and outputs with their shapes, the embedding tables a Gather reads
 * (their shapes), and the external data files it names. A config.json is checked against this
 * (configCheck.ts) before anything is allocated from it; a 2 GB model costs a few hundred small
 * reads, since every tensor's bytes are skipped over, never read.
 *
 * onnx.proto's wire format is walked by hand here (protobufjs, as onnxGraph.ts uses it, decodes
 * a whole message in memory): only the fields below are read, everything else is skipped.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** a dimension: a number when static, its name (or null) when not */
export type OnnxDim = number | string | null;

export interface OnnxValue {
  name: string;
  dims: OnnxDim[];
}

export interface OnnxTable {
  /** the initializer's (or Constant's) name */
  name: string;
  dims: number[];
}

export interface OnnxLayout {
  /** the main graph's inputs and outputs */
  inputs: OnnxValue[];
  outputs: OnnxValue[];
  /** the table gathered by input_ids: [vocab, hidden]; null when no Gather reads one */
  tokenTable: OnnxTable | null;
  /** the table gathered by the positions: [positions, hidden]; null when the model has none */
  positionTable: OnnxTable | null;
  /** the files its tensors' external data lives in, as the file names them */
  externalFiles: string[];
}

/** Graphs inside graphs (If, Loop, Scan): an export nests one or two; a file nesting more is refused. */
const MAX_DEPTH = 8;
/** names and shapes are short; a longer string field is not one this reader wants */
const MAX_STRING_BYTES = 1 << 20;
const WINDOW = 1 << 16;

/** A file read through a window, so that walking many small fields costs few reads. */
class FileBytes {
  private window = Buffer.alloc(0);
  private windowStart = 0;

  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

  private ensure(pos: number, len: number): void {
    if (pos + len > this.size)
      throw new Error(`a field runs past the end of the file (byte ${pos + len} of ${this.size})`);
    if (pos >= this.windowStart && pos + len <= this.windowStart + this.window.length) return;
    const want = Math.min(Math.max(len, WINDOW), this.size - pos);
    const buf = Buffer.alloc(want);
    let got = 0;
    while (got < want) {
      const n = readSync(this.fd, buf, got, want - got, pos + got);
      if (n === 0) throw new Error(`the file ended early (byte ${pos + got} of ${this.size})`);
      got += n;
    }
    this.window = buf;
    this.windowStart = pos;
  }

  byte(pos: number): number {
    this.ensure(pos, 1);
    return this.window[pos - this.windowStart]!;
  }

  bytes(pos: number, len: number): Buffer {
    this.ensure(pos, len);
    return this.window.subarray(pos - this.windowStart, pos - this.windowStart + len);
  }
}

/** one field of a message: its number, wire type and where its value lies */
interface Field {
  no: number;
  wire: number;
  /** varint fields: the value (int64, two's complement, as a number) */
  value: number;
  /** length-delimited fields: the value's bytes */
  start: number;
  end: number;
}

class Walker {
  constructor(private readonly file: FileBytes) {}

  /** a varint at pos: its value (as a signed 64-bit number) and where the next byte is */
  private varint(pos: number): [number, number] {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const b = this.file.byte(pos++);
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return [Number(BigInt.asIntN(64, result)), pos];
      shift += 7n;
    }
    throw new Error(`a varint longer than 10 bytes at byte ${pos}`);
  }

  /** Each field of the message in [start, end), in order. */
  *fields(start: number, end: number): Generator<Field> {
    let pos = start;
    while (pos < end) {
      const [key, afterKey] = this.varint(pos);
      const no = Math.floor(key / 8);
      const wire = key & 7;
      // field 0 does not exist: zeros or garbage, refused at once rather than walked byte by byte
      if (no <= 0) throw new Error(`no protobuf field at byte ${pos} (not an ONNX model)`);
      pos = afterKey;
      if (wire === 0) {
        const [value, next] = this.varint(pos);
        yield { no, wire, value, start: pos, end: next };
        pos = next;
      } else if (wire === 1 || wire === 5) {
        const width = wire === 1 ? 8 : 4;
        yield { no, wire, value: 0, start: pos, end: pos + width };
        pos += width;
      } else if (wire === 2) {
        const [len, next] = this.varint(pos);
        if (len < 0 || next + len > end)
          throw new Error(`a field of ${len} bytes at byte ${next} runs past its message`);
        yield { no, wire, value: 0, start: next, end: next + len };
        pos = next + len;
      } else {
        throw new Error(`wire type ${wire} at byte ${pos} (not a protobuf ONNX model)`);
      }
      if (pos > end) throw new Error(`a field runs past its message at byte ${pos}`);
    }
  }

  string(f: Field): string {
    if (f.wire !== 2) throw new Error(`field ${f.no} is not a string`);
    const len = f.end - f.start;
    if (len > MAX_STRING_BYTES) throw new Error(`a name of ${len} bytes`);
    return this.file.bytes(f.start, len).toString('utf8');
  }

  /** a repeated int64 field's values, packed or one by one */
  int64s(f: Field, into: number[]): void {
    if (f.wire === 0) {
      into.push(f.value);
      return;
    }
    if (f.wire !== 2) throw new Error(`field ${f.no} is not an integer list`);
    let pos = f.start;
    while (pos < f.end) {
      const [v, next] = this.varint(pos);
      into.push(v);
      pos = next;
    }
  }
}

interface Scan {
  walker: Walker;
  tables: Map<string, OnnxTable>;
  /** Gather nodes' (table, indices) inputs */
  gathers: { data: string; indices: string }[];
  externalFiles: Set<string>;
}

/** TensorProto: its name and dims, and the file its external data names; bytes skipped */
function readTensor(scan: Scan, start: number, end: number): OnnxTable {
  const table: OnnxTable = { name: '', dims: [] };
  for (const f of scan.walker.fields(start, end)) {
    if (f.no === 1) scan.walker.int64s(f, table.dims);
    else if (f.no === 8) table.name = scan.walker.string(f);
    else if (f.no === 13 && f.wire === 2) {
      // StringStringEntryProto: key 1, value 2
      let key = '';
      let value = '';
      for (const e of scan.walker.fields(f.start, f.end)) {
        if (e.no === 1) key = scan.walker.string(e);
        else if (e.no === 2) value = scan.walker.string(e);
      }
      if (key === 'location') scan.externalFiles.add(value);
    }
  }
  return table;
}

/** ValueInfoProto: name 1, type 2 -> TypeProto.tensor_type 1 -> shape 2 -> dim 1 */
function readValue(scan: Scan, start: number, end: number): OnnxValue {
  const w = scan.walker;
  const value: OnnxValue = { name: '', dims: [] };
  for (const f of w.fields(start, end)) {
    if (f.no === 1) value.name = w.string(f);
    else if (f.no === 2 && f.wire === 2)
      for (const t of w.fields(f.start, f.end))
        if (t.no === 1 && t.wire === 2)
          for (const s of w.fields(t.start, t.end))
            if (s.no === 2 && s.wire === 2)
              for (const d of w.fields(s.start, s.end))
                if (d.no === 1 && d.wire === 2) {
                  let dim: OnnxDim = null;
                  for (const x of w.fields(d.start, d.end)) {
                    if (x.no === 1 && x.wire === 0) dim = x.value;
                    else if (x.no === 2) dim = w.string(x);
                  }
                  value.dims.push(dim);
                }
  }
  return value;
}

/** NodeProto: a Gather's inputs, a Constant's tensor, the graphs of its attributes */
function readNode(scan: Scan, start: number, end: number, depth: number): void {
  const w = scan.walker;
  const inputs: string[] = [];
  const outputs: string[] = [];
  let opType = '';
  let constant: OnnxTable | null = null;
  for (const f of w.fields(start, end)) {
    if (f.no === 1) inputs.push(w.string(f));
    else if (f.no === 2) outputs.push(w.string(f));
    else if (f.no === 4) opType = w.string(f);
    else if (f.no === 5 && f.wire === 2) {
      // AttributeProto: t 5 (a tensor), g 6 (a graph), graphs 11
      for (const a of w.fields(f.start, f.end)) {
        if (a.no === 5 && a.wire === 2) constant = readTensor(scan, a.start, a.end);
        else if ((a.no === 6 || a.no === 11) && a.wire === 2)
          readGraph(scan, a.start, a.end, depth + 1, null);
      }
    }
  }
  if (opType === 'Gather' && inputs.length >= 2)
    scan.gathers.push({ data: inputs[0]!, indices: inputs[1]! });
  if (opType === 'Constant' && constant && outputs[0])
    scan.tables.set(outputs[0], { name: outputs[0], dims: constant.dims });
}

/** GraphProto: node 1, initializer 5, input 11, output 12 (`io` collects the main graph's) */
function readGraph(
  scan: Scan,
  start: number,
  end: number,
  depth: number,
  io: { inputs: OnnxValue[]; outputs: OnnxValue[] } | null,
): void {
  if (depth > MAX_DEPTH) throw new Error(`graphs nested over ${MAX_DEPTH} deep`);
  for (const f of scan.walker.fields(start, end)) {
    if (f.wire !== 2) continue;
    if (f.no === 1) readNode(scan, f.start, f.end, depth);
    else if (f.no === 5) {
      const t = readTensor(scan, f.start, f.end);
      scan.tables.set(t.name, t);
    } else if (f.no === 11 && io) io.inputs.push(readValue(scan, f.start, f.end));
    else if (f.no === 12 && io) io.outputs.push(readValue(scan, f.start, f.end));
  }
}

/** the rank-2 table a Gather with these indices reads, if one does */
function tableGatheredBy(scan: Scan, indices: string): OnnxTable | null {
  for (const g of scan.gathers) {
    const t = scan.tables.get(g.data);
    if (g.indices === indices && t?.dims.length === 2) return t;
  }
  return null;
}

/**
 * The layout of the model file at `path`; throws (a plain Error saying where) when the file is
 * not a readable ONNX model. The caller has checked it is a regular file.
 */
export function readOnnxLayout(path: string): OnnxLayout {
  const fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const size = fstatSync(fd).size;
    const scan: Scan = {
      walker: new Walker(new FileBytes(fd, size)),
      tables: new Map(),
      gathers: [],
      externalFiles: new Set(),
    };
    const io = { inputs: [] as OnnxValue[], outputs: [] as OnnxValue[] };
    let graphs = 0;
    // ModelProto: graph 7
    for (const f of scan.walker.fields(0, size)) {
      if (f.no === 7 && f.wire === 2) {
        readGraph(scan, f.start, f.end, 0, io);
        graphs++;
      }
    }
    if (graphs === 0) throw new Error('the file has no graph');
    const tokenTable = tableGatheredBy(scan, 'input_ids');
    let positionTable = tableGatheredBy(scan, 'position_ids');
    if (!positionTable && tokenTable) {
      // an export that derives the positions itself: the one other table of the same width
      const others = new Set(
        scan.gathers
          .map((g) => scan.tables.get(g.data))
          .filter(
            (t): t is OnnxTable =>
              t !== undefined &&
              t.dims.length === 2 &&
              t.name !== tokenTable.name &&
              t.dims[1] === tokenTable.dims[1],
          ),
      );
      if (others.size === 1) positionTable = [...others][0]!;
    }
    return {
      inputs: io.inputs,
      outputs: io.outputs,
      tokenTable,
      positionTable,
      externalFiles: [...scan.externalFiles],
    };
  } finally {
    closeSync(fd);
  }
}
