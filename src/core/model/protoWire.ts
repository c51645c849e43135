/**
 * The protobuf wire format as far as reading and re-writing an ONNX file field by field needs it
 * (protobuf.dev/programming-guides/encoding): fields located without decoding the message, so
 * whatever a rewrite does not touch is copied byte for byte.
 */
import { readSync } from 'node:fs';

// protobuf wire types (protobuf.dev/programming-guides/encoding)
export const VARINT = 0;
export const FIXED64 = 1;
export const BYTES = 2;
export const FIXED32 = 5;

export interface Field {
  number: number;
  wire: number;
  /** the whole field, tag included */
  start: number;
  end: number;
  /** a length-delimited field's payload, or a varint's value */
  payload: Uint8Array | null;
  value: number;
}

/**
 * A varint at `at` and where the next field starts. An int64 below zero (an attribute's -1, a
 * Softmax's axis) is written as its 64-bit two's complement, ten bytes: read back as the negative
 * number (ONNX writes no unsigned value that large).
 */
export function readVarint(buf: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  let scale = 1;
  for (let i = at; i < buf.length && i < at + 10; i++) {
    const byte = buf[i]!;
    value += (byte & 0x7f) * scale;
    scale *= 128;
    if (byte < 0x80) return [i - at === 9 ? signedInt64(buf, at) : value, i + 1];
  }
  throw new Error('a truncated varint');
}

/** a ten-byte varint at `at` as a signed 64-bit integer */
function signedInt64(buf: Uint8Array, at: number): number {
  let v = 0n;
  for (let i = 9; i >= 0; i--) v = (v << 7n) | BigInt(buf[at + i]! & 0x7f);
  return Number(BigInt.asIntN(64, v));
}

/** the top-level fields of one message, each located in `buf` */
export function* fields(buf: Uint8Array): Generator<Field> {
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

/** a varint's bytes; a negative value as its 64-bit two's complement (ten bytes), as int64 is */
export function varint(value: number): Uint8Array {
  if (value < 0) {
    let v = BigInt.asUintN(64, BigInt(value));
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    return Uint8Array.from(out);
  }
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Uint8Array.from(out);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** a length-delimited field: its tag, length and payload */
export const bytesField = (number: number, payload: Uint8Array): Uint8Array[] => [
  varint(number * 8 + BYTES),
  varint(payload.length),
  payload,
];

export const text = (b: Uint8Array | null): string => (b ? new TextDecoder().decode(b) : '');

/** one field's tag and where its payload lies, read from an open file at `pos` */
export function fieldAt(
  fd: number,
  pos: number,
  end: number,
): { field: Field; payloadStart: number } {
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
