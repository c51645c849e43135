/**
 * The gather graph a device-resident cache runs for token trees (deviceGraphs.ts gatherGraph),
 * checked on the CPU provider against the selection done by hand: batch rows (repeated, reordered)
 * and positions (a crop's prefix, or a tree's accepted nodes) of every slot, in float32 and in
 * float16 (which SwiftShader cannot run: tree-webgpu.test.ts runs float32 on the device). And the
 * head graph reads a batch of rows as the host path lays them out, row after row.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { gatherGraph, readOnDevice } from '../../src/core/model/deviceGraphs';
import { headGraph } from '../../src/core/model/onnxGraph';
import { PassTimer } from '../../src/core/model/passTiming';
import { DeviceTensorLedger } from '../../src/core/model/deviceTensors';
import { floatToHalf, halfsToFloats } from '../../src/core/model/float16';

const cpu = { executionProviders: ['cpu'] };

describe('the gather graph', () => {
  it.each(['float32', 'float16'] as const)(
    'keeps the chosen batch rows and positions of every slot (%s)',
    async (type) => {
      const [batch, heads, len, dim] = [3, 2, 6, 4];
      const session = await ort.InferenceSession.create(gatherGraph(2, heads, dim, type), cpu);
      const size = batch * heads * len * dim;
      // values a float16 holds exactly
      const slot = (s: number) => Array.from({ length: size }, (_, i) => s * 100 + (i % 97));
      const tensor = (values: number[]) =>
        type === 'float32'
          ? new ort.Tensor('float32', Float32Array.from(values), [batch, heads, len, dim])
          : new ort.Tensor('float16', Uint16Array.from(values, floatToHalf), [
              batch,
              heads,
              len,
              dim,
            ]);
      const rows = [2, 0, 2];
      const positions = [0, 1, 4, 5];
      const out = await session.run({
        rows: new ort.Tensor('int64', BigInt64Array.from(rows, BigInt), [rows.length]),
        positions: new ort.Tensor('int64', BigInt64Array.from(positions, BigInt), [4]),
        in0: tensor(slot(0)),
        in1: tensor(slot(1)),
      });
      for (const s of [0, 1]) {
        const t = out[`out${s}`]!;
        expect(t.dims).toEqual([rows.length, heads, positions.length, dim]);
        const expected: number[] = [];
        for (const r of rows)
          for (let h = 0; h < heads; h++)
            for (const p of positions)
              for (let d = 0; d < dim; d++)
                expected.push(slot(s)[((r * heads + h) * len + p) * dim + d]!);
        const got =
          type === 'float32'
            ? Array.from(t.data as Float32Array)
            : Array.from(halfsToFloats(t.data as Uint16Array));
        expect(got).toEqual(expected);
      }
      await session.release();
    },
  );
});

describe('the head graph over a batch of rows', () => {
  it('returns every batch row, row after row (as a host pass lays them out)', async () => {
    const [batch, n, vocab] = [3, 2, 10];
    const head = await ort.InferenceSession.create(headGraph(vocab, 'float32'), cpu);
    const data = Float32Array.from({ length: batch * n * vocab }, (_, i) => Math.sin(i));
    const logits = new ort.Tensor('float32', data, [batch, n, vocab]);
    const timer = new PassTimer('gather-test', 'cpu', new DeviceTensorLedger());
    const graphs = { crop: head, gather: head, head, logitWidth: null };
    const read = await readOnDevice(graphs, timer, logits, batch * n, undefined);
    expect(read.logits.rows).toBe(batch * n);
    for (let r = 0; r < batch * n; r++)
      expect(Array.from(read.logits.row(r))).toEqual(
        Array.from(data.subarray(r * vocab, (r + 1) * vocab)),
      );
    await head.release();
  });
});
