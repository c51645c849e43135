/**
 * How the CPU provider computes a 4-bit file's MatMulNBits products. The Hub's q4 files set no
 * `accuracy_level` (onnxruntime's quantizer leaves it out), so MLAS dequantizes every block to
 * float32; `accuracy_level = 4` makes it round each block of activations to int8 and multiply in
 * integers, as onnxruntime-genai's CPU exports and llama.cpp's Q4_0 x Q8_0 products do. The
 * attribute is rewritten at load in the graph's protobuf, field by field on the wire, so every
 * other byte (and every weight in external data) stays as the file has it.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Q4Compute, Q4ComputeRan } from '../../shared/decoding';

/** MatMulNBits' `accuracy_level` for int8 activations (onnxruntime's ContribOperators.md) */
export const INT8_ACCURACY_LEVEL = 4;

/** What a graph's 4-bit MatMulNBits nodes run at, before and after the rewrite. */
export interface NBitsSummary {
  /** 4-bit MatMulNBits nodes (subgraphs included) */
  nodes: number;
  /** how many of them were set to accuracy_level 4 here */
  rewritten: number;
  /** each node's accuracy_level as it runs (0 where the file sets none), node count per level */
  levels: Record<number, number>;
}

/** What the session opens, and what its 4-bit products compute in. */
export interface PreparedGraph {
  /** the rewritten graph; null: open the file as it is */
  bytes: Uint8Array | null;
  /** the folder the file's external data is read from (a graph opened from bytes has none) */
  externalDataDir: string;
  summary: NBitsSummary;
  /** null when the graph has no 4-bit MatMulNBits node */
  ran: Q4ComputeRan | null;
}

// protobuf wire types (protobuf.dev/programming-guides/encoding)
const VARINT = 0;
const FIXED64 = 1;
const BYTES = 2;
const FIXED32 = 5;

// onnx.proto field numbers
const MODEL_GRAPH = 7;
const GRAPH_NODE = 1;
const NODE_OP_TYPE = 4;
const NODE_ATTRIBUTE = 5;
const NODE_DOMAIN = 7;
const ATTR_NAME = 1;
const ATTR_I = 3;
const ATTR_G = 6;
const ATTR_GRAPHS = 11;
const ATTR_TYPE = 20;
const ATTR_TYPE_INT = 2;

interface Field {
  number: number;
  wire: number;
  /** the whole field, tag included */
  start: number;
  end: number;
  /** a length-delimited field's payload, or a varint's value */
  payload: Uint8Array | null;
  value: number;
}

function readVarint(buf: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  let scale = 1;
  for (let i = at; i < buf.length && i < at + 10; i++) {
    const byte = buf[i]!;
    value += (byte & 0x7f) * scale;
    scale *= 128;
    if (byte < 0x80) return [value, i + 1];
  }
  throw new Error('a truncated varint');
}

/** the top-level fields of one message, each located in `buf` */
function* fields(buf: Uint8Array): Generator<Field> {
  let at = 0;
  while (at < buf.length) {
    const start = at;
    const [tag, afterTag] = readVarint(buf, at);
    const wire = tag % 8;
    const number = Math.floor(tag / 8);
    let payload: Uint8Array | null = null;
    let value = 0;
    if (wire === VARINT) [value, at] = readVarint(buf, afterTag);
    else if (wire === FIXED64) at = afterTag + 8;
    else if (wire === FIXED32) at = afterTag + 4;
    else if (wire === BYTES) {
      const [length, afterLength] = readVarint(buf, afterTag);
      at = afterLength + length;
      payload = buf.subarray(afterLength, at);
    } else throw new Error(`wire type ${wire} (field ${number}) is not one ONNX writes`);
    if (at > buf.length) throw new Error(`field ${number} runs past the end of its message`);
    yield { number, wire, start, end: at, payload, value };
  }
}

function varint(value: number): Uint8Array {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Uint8Array.from(out);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** a length-delimited field: its tag, length and payload */
const bytesField = (number: number, payload: Uint8Array): Uint8Array[] => [
  varint(number * 8 + BYTES),
  varint(payload.length),
  payload,
];

const text = (b: Uint8Array | null): string => (b ? new TextDecoder().decode(b) : '');

/** AttributeProto accuracy_level = `level` (type INT) */
function accuracyAttribute(level: number): Uint8Array {
  return concat([
    ...bytesField(ATTR_NAME, new TextEncoder().encode('accuracy_level')),
    varint(ATTR_I * 8 + VARINT),
    varint(level),
    varint(ATTR_TYPE * 8 + VARINT),
    varint(ATTR_TYPE_INT),
  ]);
}

class Rewriter {
  readonly summary: NBitsSummary = { nodes: 0, rewritten: 0, levels: {} };
  constructor(private readonly setInt8: boolean) {}

  /** a message with each `number` field's payload passed through `rewrite` */
  private rewriteFields(
    buf: Uint8Array,
    rewrite: Partial<Record<number, (payload: Uint8Array) => Uint8Array>>,
  ): Uint8Array {
    const parts: Uint8Array[] = [];
    for (const f of fields(buf)) {
      const fn = f.wire === BYTES ? rewrite[f.number] : undefined;
      if (fn) parts.push(...bytesField(f.number, fn(f.payload!)));
      else parts.push(buf.subarray(f.start, f.end));
    }
    return concat(parts);
  }

  model(buf: Uint8Array): Uint8Array {
    return this.rewriteFields(buf, { [MODEL_GRAPH]: (g) => this.graph(g) });
  }

  /** one node read on its own (scanFile): the node as `model` would write it */
  scanNode(buf: Uint8Array): Uint8Array {
    return this.node(buf);
  }

  private graph(buf: Uint8Array): Uint8Array {
    return this.rewriteFields(buf, { [GRAPH_NODE]: (n) => this.node(n) });
  }

  private attribute(buf: Uint8Array): Uint8Array {
    const sub = (g: Uint8Array): Uint8Array => this.graph(g);
    return this.rewriteFields(buf, { [ATTR_G]: sub, [ATTR_GRAPHS]: sub });
  }

  private node(buf: Uint8Array): Uint8Array {
    let opType = '';
    let domain = '';
    let bits = 4;
    let level = 0;
    for (const f of fields(buf)) {
      if (f.number === NODE_OP_TYPE) opType = text(f.payload);
      else if (f.number === NODE_DOMAIN) domain = text(f.payload);
      else if (f.number === NODE_ATTRIBUTE && f.payload) {
        const attr = readIntAttribute(f.payload);
        if (attr?.name === 'bits') bits = attr.value;
        if (attr?.name === 'accuracy_level') level = attr.value;
      }
    }
    if (opType !== 'MatMulNBits' || domain !== 'com.microsoft' || bits !== 4)
      return this.rewriteFields(buf, { [NODE_ATTRIBUTE]: (a) => this.attribute(a) });
    this.summary.nodes++;
    const runs = this.setInt8 && level === 0 ? INT8_ACCURACY_LEVEL : level;
    this.summary.levels[runs] = (this.summary.levels[runs] ?? 0) + 1;
    if (runs === level) return buf;
    this.summary.rewritten++;
    // every field but the absent-or-zero accuracy_level, then the new one
    const kept: Uint8Array[] = [];
    for (const f of fields(buf)) {
      const isLevel =
        f.number === NODE_ATTRIBUTE && readIntAttribute(f.payload!)?.name === 'accuracy_level';
      if (!isLevel) kept.push(buf.subarray(f.start, f.end));
    }
    return concat([...kept, ...bytesField(NODE_ATTRIBUTE, accuracyAttribute(runs))]);
  }
}

/** an AttributeProto's name and integer value (0 where it has none) */
function readIntAttribute(buf: Uint8Array): { name: string; value: number } | null {
  let name = '';
  let value = 0;
  for (const f of fields(buf)) {
    if (f.number === ATTR_NAME) name = text(f.payload);
    else if (f.number === ATTR_I && f.wire === VARINT) value = f.value;
  }
  return name ? { name, value } : null;
}

/**
 * A graph's 4-bit MatMulNBits nodes set to int8 activations where the file leaves the level at 0
 * (`setInt8`), or only counted; levels the file sets itself are its exporter's choice and kept.
 */
export function rewriteAccuracyLevels(
  model: Uint8Array,
  setInt8: boolean,
): { bytes: Uint8Array; summary: NBitsSummary } {
  const rewriter = new Rewriter(setInt8);
  const bytes = rewriter.model(model);
  return { bytes, summary: rewriter.summary };
}

/** what the products compute in, from the levels they run at (1: float32; 2, 3: float16, bfloat16) */
export function computeOf(summary: NBitsSummary): Q4ComputeRan | null {
  if (summary.nodes === 0) return null;
  const levels = Object.keys(summary.levels).map(Number);
  if (levels.every((l) => l === INT8_ACCURACY_LEVEL)) return 'int8';
  if (levels.every((l) => l === 0 || l === 1)) return 'float';
  return 'mixed';
}

/** one field's tag and where its payload lies, read from an open file at `pos` */
function fieldAt(fd: number, pos: number, end: number): { field: Field; payloadStart: number } {
  const head = new Uint8Array(Math.min(24, end - pos));
  readSync(fd, head, 0, head.length, pos);
  const [tag, afterTag] = readVarint(head, 0);
  const wire = tag % 8;
  const number = Math.floor(tag / 8);
  let next: number;
  let payloadStart = pos + afterTag;
  let value = 0;
  if (wire === VARINT) {
    const [v, after] = readVarint(head, afterTag);
    value = v;
    next = pos + after;
  } else if (wire === FIXED64) next = pos + afterTag + 8;
  else if (wire === FIXED32) next = pos + afterTag + 4;
  else if (wire === BYTES) {
    const [length, afterLength] = readVarint(head, afterTag);
    payloadStart = pos + afterLength;
    next = payloadStart + length;
  } else throw new Error(`wire type ${wire} (field ${number}) is not one ONNX writes`);
  if (next > end) throw new Error(`field ${number} runs past the end of its message`);
  return { field: { number, wire, start: pos, end: next, payload: null, value }, payloadStart };
}

/** a top-level node the rewrite changes: where it lies in the file and what replaces it */
interface NodeChange {
  start: number;
  end: number;
  field: Uint8Array;
}

/** what scanFile found: the nodes' levels, and where the graph and its changed nodes lie */
interface Scan {
  summary: NBitsSummary;
  graph: { start: number; payloadStart: number; end: number } | null;
  changes: NodeChange[];
  size: number;
}

/**
 * The file's 4-bit MatMulNBits nodes found by reading only its nodes: a file with its weights
 * inline (a GPT-2 medium of 1.4 GB) is not read whole to learn it has none.
 */
function scanFile(fd: number, setInt8: boolean): Scan {
  const rewriter = new Rewriter(setInt8);
  const size = fstatSync(fd).size;
  let graph: Scan['graph'] = null;
  const changes: NodeChange[] = [];
  for (let pos = 0; pos < size;) {
    const top = fieldAt(fd, pos, size);
    pos = top.field.end;
    if (top.field.number !== MODEL_GRAPH || top.field.wire !== BYTES) continue;
    graph = { start: top.field.start, payloadStart: top.payloadStart, end: top.field.end };
    for (let at = top.payloadStart; at < top.field.end;) {
      const f = fieldAt(fd, at, top.field.end);
      at = f.field.end;
      if (f.field.number !== GRAPH_NODE || f.field.wire !== BYTES) continue;
      const node = new Uint8Array(f.field.end - f.payloadStart);
      readSync(fd, node, 0, node.length, f.payloadStart);
      const before = rewriter.summary.rewritten;
      const written = rewriter.scanNode(node);
      if (rewriter.summary.rewritten > before)
        changes.push({
          start: f.field.start,
          end: f.field.end,
          field: concat(bytesField(GRAPH_NODE, written)),
        });
    }
  }
  return { summary: rewriter.summary, graph, changes, size };
}

/**
 * The rewritten model assembled in one buffer, each unchanged range read from the file straight
 * into it: a q4 file with its weights inline (1.4 GB for SmolLM2-1.7B) is held once, not twice.
 */
function assemble(fd: number, scan: Scan): Uint8Array {
  const graph = scan.graph!;
  const grown = scan.changes.reduce((n, c) => n + c.field.length - (c.end - c.start), 0);
  const header = concat([
    varint(MODEL_GRAPH * 8 + BYTES),
    varint(graph.end - graph.payloadStart + grown),
  ]);
  const out = new Uint8Array(
    scan.size + grown + header.length - (graph.payloadStart - graph.start),
  );
  let at = 0;
  const copy = (from: number, to: number): void => {
    for (let done = 0; done < to - from;)
      done += readSync(fd, out, at + done, to - from - done, from + done);
    at += to - from;
  };
  const put = (bytes: Uint8Array): void => {
    out.set(bytes, at);
    at += bytes.length;
  };
  copy(0, graph.start);
  put(header);
  let pos = graph.payloadStart;
  for (const change of scan.changes) {
    copy(pos, change.start);
    put(change.field);
    pos = change.end;
  }
  copy(pos, scan.size);
  return out;
}

/**
 * The graph a CPU session opens for `q4Compute`: with `int8`, the file's 4-bit products at
 * accuracy_level 4 where it sets none; with `exported`, the file as it is. Other providers read
 * the attribute themselves and are given the file as it is.
 */
export function prepareGraph(onnxPath: string, cpu: boolean, q4Compute: Q4Compute): PreparedGraph {
  const fd = openSync(onnxPath, 'r');
  try {
    const scan = scanFile(fd, cpu && q4Compute === 'int8');
    return {
      bytes: scan.changes.length > 0 ? assemble(fd, scan) : null,
      externalDataDir: dirname(onnxPath),
      summary: scan.summary,
      ran: cpu || scan.summary.nodes === 0 ? computeOf(scan.summary) : 'exported',
    };
  } finally {
    closeSync(fd);
  }
}
