/**
 * How the CPU provider computes a 4-bit file's MatMulNBits products. The Hub's q4 files set no
 * `accuracy_level` (onnxruntime's quantizer leaves it out), so MLAS dequantizes every block to
 * float32; `accuracy_level = 4` makes it round each block of activations to int8 and multiply in
 * integers, as onnxruntime-genai's CPU exports and llama.cpp's Q4_0 x Q8_0 products do. The
 * attribute is rewritten at load in the graph's protobuf, field by field on the wire, so every
 * other byte (and every weight in external data) stays as the file has it.
 */
import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Q4Compute, Q4ComputeRan } from '../../shared/decoding';
import { SpecDecError, describeError, type SettingName } from '../errors';
import { BYTES, VARINT, bytesField, concat, fieldAt, fields, text, varint } from './protoWire';

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

/**
 * What the CPU computes the products in, from the levels they run at: onnxruntime's CPU kernel
 * (matmul_nbits.cc, GetComputeType) runs level 4 with int8 activations and every other level in
 * float32 (float16 activations on ARM64 only)
 */
export function computeOf(summary: NBitsSummary): Q4ComputeRan | null {
  if (summary.nodes === 0) return null;
  const int8 = summary.levels[INT8_ACCURACY_LEVEL] ?? 0;
  return int8 === summary.nodes ? 'int8' : int8 === 0 ? 'float' : 'mixed';
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

/** the rewritten model as pieces: ranges of the file, and the bytes put between them */
function pieces(scan: Scan): { parts: Array<[number, number] | Uint8Array>; size: number } {
  const graph = scan.graph!;
  const grown = scan.changes.reduce((n, c) => n + c.field.length - (c.end - c.start), 0);
  const header = concat([
    varint(MODEL_GRAPH * 8 + BYTES),
    varint(graph.end - graph.payloadStart + grown),
  ]);
  const parts: Array<[number, number] | Uint8Array> = [[0, graph.start], header];
  let pos = graph.payloadStart;
  for (const change of scan.changes) {
    parts.push([pos, change.start], change.field);
    pos = change.end;
  }
  parts.push([pos, scan.size]);
  return { parts, size: scan.size + grown + header.length - (graph.payloadStart - graph.start) };
}

/**
 * The rewritten model assembled in one buffer, each unchanged range read from the file straight
 * into it (no second copy of the file in memory).
 */
function assemble(fd: number, scan: Scan): Uint8Array {
  const { parts, size } = pieces(scan);
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    if (part instanceof Uint8Array) {
      out.set(part, at);
      at += part.length;
      continue;
    }
    const [from, to] = part;
    for (let done = 0; done < to - from;)
      done += readSync(fd, out, at + done, to - from - done, from + done);
    at += to - from;
  }
  return out;
}

/**
 * The rewritten model written to an open file through a small buffer: a file with its weights
 * inline (1.4 GB for SmolLM2-1.7B's q4) is then opened by path, as onnxruntime opens the file
 * itself, instead of being held in JavaScript memory as well while onnxruntime parses it.
 */
function assembleTo(fd: number, scan: Scan, out: number): void {
  const chunk = new Uint8Array(16 << 20);
  for (const part of pieces(scan).parts) {
    if (part instanceof Uint8Array) {
      writeSync(out, part);
      continue;
    }
    for (let pos = part[0]; pos < part[1];) {
      const n = readSync(fd, chunk, 0, Math.min(chunk.length, part[1] - pos), pos);
      writeSync(out, chunk, 0, n);
      pos += n;
    }
  }
}

/** A graph written to a temporary file, and its removal once a session has read it. */
export interface TemporaryGraph {
  file: string;
  dispose: () => void;
}

/**
 * A rewritten graph of `onnxPath` (`what`: how it differs, for the message) written by `write`
 * to a temporary file named as the export; a file that cannot be written is DISK_FULL where the
 * disk is, ONNX_INVALID otherwise, with what to do (`fallback`: the setting that avoids it).
 */
export function writeTemporaryGraph(
  onnxPath: string,
  sizeBytes: number,
  what: string,
  fallback: { words: string; setting: SettingName | null },
  write: (fd: number) => void,
): TemporaryGraph {
  let tmp: string | null = null;
  try {
    tmp = mkdtempSync(join(tmpdir(), 'specdec-graph-'));
    const file = join(tmp, basename(onnxPath));
    const out = openSync(file, 'w');
    try {
      write(out);
    } finally {
      closeSync(out);
    }
    const dir = tmp;
    return { file, dispose: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (err) {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    const full = (err as NodeJS.ErrnoException).code === 'ENOSPC';
    throw new SpecDecError(
      full ? 'DISK_FULL' : 'ONNX_INVALID',
      `Could not write ${basename(onnxPath)} ${what} to a temporary file in ${tmpdir()} (${describeError(err)}). ${full ? `Free ${(sizeBytes / 1e9).toFixed(1)} GB there` : 'Make that folder writable (or point TMPDIR elsewhere)'}, or ${fallback.words}.`,
      fallback.setting ? [fallback.setting] : [],
    );
  }
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

/**
 * Above this size a rewritten graph is written to a temporary file rather than held in memory:
 * a graph with its weights in external data is well under it (1 MB for SmolLM2-1.7B).
 */
export const IN_MEMORY_MAX_BYTES = 64 << 20;

/** What a CPU session opens for `q4Compute`, and what its 4-bit products then compute in. */
export interface SessionSource {
  /** the file as it is, the rewritten graph's bytes, or a temporary file holding it */
  source: string | Uint8Array;
  /** the folder the model's external data is read from, where the source is not the file */
  externalDataDir: string | null;
  /** removes a temporary file (once the session has read it) */
  dispose: () => void;
  summary: NBitsSummary;
  ran: Q4ComputeRan | null;
}

/**
 * As prepareGraph, for opening a session: a rewritten graph over 64 MB (weights inline) goes to a
 * temporary file, read by onnxruntime and removed by `dispose`.
 */
export function sessionSource(
  onnxPath: string,
  cpu: boolean,
  q4Compute: Q4Compute,
  inMemoryMaxBytes = IN_MEMORY_MAX_BYTES,
): SessionSource {
  const fd = openSync(onnxPath, 'r');
  try {
    const scan = scanFile(fd, cpu && q4Compute === 'int8');
    const ran = cpu || scan.summary.nodes === 0 ? computeOf(scan.summary) : 'exported';
    const base = { summary: scan.summary, ran };
    if (scan.changes.length === 0)
      return { ...base, source: onnxPath, externalDataDir: null, dispose: () => {} };
    const externalDataDir = dirname(onnxPath);
    if (scan.size <= inMemoryMaxBytes)
      return { ...base, source: assemble(fd, scan), externalDataDir, dispose: () => {} };
    const written = writeTemporaryGraph(
      onnxPath,
      scan.size,
      'with int8 activations',
      {
        words:
          "run the file's own float32 4-bit products (q4 compute: exported), which opens it as it is",
        setting: 'q4Compute',
      },
      (out) => assembleTo(fd, scan, out),
    );
    return { ...base, source: written.file, externalDataDir, dispose: written.dispose };
  } finally {
    closeSync(fd);
  }
}
