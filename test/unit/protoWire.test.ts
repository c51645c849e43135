/**
 * protoWire.ts reads the int64s ONNX writes, negative ones too (an attribute's -1, a Softmax's
 * axis: ten-byte two's complement varints), as protobufjs' own encoder writes them.
 */
import { describe, expect, it } from 'vitest';
import protobuf from 'protobufjs';
import { fields, readVarint, varint } from '../../src/core/model/protoWire';

/** an AttributeProto-like message { name = 1 (string), i = 3 (int64) } written by protobufjs */
function attribute(name: string, i: number): Uint8Array {
  const writer = protobuf.Writer.create();
  writer.uint32((1 << 3) | 2).string(name);
  writer.uint32((3 << 3) | 0).int64(i);
  return writer.finish();
}

describe('protoWire', () => {
  it.each([0, 1, 127, 128, 300, 2 ** 31, 2 ** 40, -1, -3, -128, -(2 ** 31)])(
    'reads back the int64 %d as protobufjs writes it, and writes it the same way',
    (value) => {
      const written = protobuf.Writer.create().int64(value).finish();
      expect(readVarint(written, 0)).toEqual([value, written.length]);
      expect(Array.from(varint(value))).toEqual(Array.from(written));
    },
  );

  it("reads a Softmax's axis -1 inside a message", () => {
    const [name, axis] = [...fields(attribute('axis', -1))];
    expect(new TextDecoder().decode(name!.payload!)).toBe('axis');
    expect(axis!.value).toBe(-1);
  });

  it('refuses a truncated varint', () => {
    expect(() => readVarint(Uint8Array.from([0xff, 0xff]), 0)).toThrow(/truncated varint/);
  });
});
