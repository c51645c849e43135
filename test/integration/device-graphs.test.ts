/**
 * The two small graphs a device-resident model runs beside itself (src/core/model/onnxGraph.ts),
 * checked on the CPU provider against what the host path computes: the crop keeps exactly the
 * first n positions of every slot, and the head's ids, margins and probabilities equal
 * argmaxWithMargin and probOf on the same rows, ties included. Where WebGPU exists,
 * webgpu.test.ts runs the same graphs on the device.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { cropGraph, headGraph, HEAD_OUTPUTS } from '../../src/core/model/onnxGraph';
import { argmaxWithMargin, probOf } from '../../src/core/model/argmax';
import { floatToHalf } from '../../src/core/model/float16';
import { kvLocationFor, OnnxCausalLM } from '../../src/core/model/causalLm';
import { readModelFolder } from '../../src/core/model/modelFolder';
import { SpecDecError } from '../../src/core/errors';
import { MICRO_A } from '../support/helpers';

const cpu = { executionProviders: ['cpu'] };

describe('the crop graph', () => {
  it('keeps the first n positions of every head of every slot', async () => {
    const [heads, len, dim] = [3, 7, 4];
    const session = await ort.InferenceSession.create(cropGraph(2, heads, dim, 'float32'), cpu);
    const slot = (s: number) =>
      Float32Array.from({ length: heads * len * dim }, (_, i) => s * 1000 + i);
    const out = await session.run({
      n: new ort.Tensor('int64', BigInt64Array.of(5n), [1]),
      in0: new ort.Tensor('float32', slot(0), [1, heads, len, dim]),
      in1: new ort.Tensor('float32', slot(1), [1, heads, len, dim]),
    });
    for (const s of [0, 1]) {
      const t = out[`out${s}`]!;
      expect(t.dims).toEqual([1, heads, 5, dim]);
      const expected: number[] = [];
      for (let h = 0; h < heads; h++)
        for (let p = 0; p < 5; p++)
          for (let d = 0; d < dim; d++) expected.push(slot(s)[(h * len + p) * dim + d]!);
      expect(Array.from(t.data as Float32Array)).toEqual(expected);
    }
    await session.release();
  });
});

describe('the head graph', () => {
  const vocab = 50;
  // row 0 has a tie for the top (the first index must win), row 2 a tie for second place
  const rows = [
    Array.from({ length: vocab }, (_, i) => (i === 7 || i === 30 ? 4 : Math.sin(i))),
    Array.from({ length: vocab }, (_, i) => Math.cos(i * 1.3) * 3),
    Array.from({ length: vocab }, (_, i) => (i === 2 ? 9 : i === 5 || i === 6 ? 8 : -i / 10)),
  ];
  const pick = [30, 11, 0];

  it.each(['float32', 'float16'] as const)(
    'on %s logits gives the host path’s argmax, margin and probabilities',
    async (type) => {
      const flat = Float32Array.from(rows.flat());
      // float16 logits: compare with the host path on the same rounded values
      const data = type === 'float16' ? Uint16Array.from(flat, floatToHalf) : flat;
      const session = await ort.InferenceSession.create(headGraph(vocab, type), cpu);
      const out = await session.run(
        {
          logits: new ort.Tensor(type, data, [1, rows.length, vocab]),
          pick: new ort.Tensor('int64', BigInt64Array.from(pick.map(BigInt)), [1, rows.length, 1]),
        },
        [...HEAD_OUTPUTS, 'rows'],
      );
      const seen = out.rows!.data as Float32Array;
      const gap = new Float64Array(1);
      for (let r = 0; r < rows.length; r++) {
        const row = seen.subarray(r * vocab, (r + 1) * vocab);
        const id = argmaxWithMargin(row, gap);
        expect(Number((out.ids!.data as BigInt64Array)[r])).toBe(id);
        const top2 = out.top2!.data as Float32Array;
        expect(top2[2 * r]! - top2[2 * r + 1]!).toBeCloseTo(gap[0]!, 6);
        const lse = (out.lse!.data as Float32Array)[r]!;
        expect(Math.exp(top2[2 * r]! - lse)).toBeCloseTo(probOf(row, id), 6);
        const picked = (out.picked!.data as Float32Array)[r]!;
        expect(Math.exp(picked - lse)).toBeCloseTo(probOf(row, pick[r]!), 6);
      }
      expect(Number((out.ids!.data as BigInt64Array)[0])).toBe(7);
      await session.release();
    },
  );
});

describe('where the KV cache can live', () => {
  it('auto keeps it on the device only where onnxruntime-node can (webgpu)', () => {
    expect(kvLocationFor('auto', 'webgpu')).toBe('device');
    for (const ep of ['cpu', 'cuda', 'dml', 'coreml'] as const)
      expect(kvLocationFor('auto', ep)).toBe('host');
    expect(kvLocationFor('host', 'webgpu')).toBe('host');
  });

  it('an explicit device cache where it cannot be is refused with what to choose', () => {
    const err = (() => {
      try {
        kvLocationFor('device', 'cuda');
      } catch (e) {
        return e as SpecDecError;
      }
    })();
    expect(err).toBeInstanceOf(SpecDecError);
    expect(err!.settings).toEqual(['kvLocation']);
    expect(err!.message).toMatch(/keeps only WebGPU buffers.*Choose the host \(or auto\)/);
    expect(() => kvLocationFor('device', 'cpu')).toThrow(/no device memory/);
  });

  it('on the CPU a model counts no cache bytes and reads its logits rows back', async () => {
    const lm = await OnnxCausalLM.open(readModelFolder(MICRO_A));
    expect(lm.kvLocation).toBe('host');
    await lm.forward([1, 2, 3], {});
    await lm.forward([4], {});
    const vocab = lm.folder.config.vocabSize;
    expect(lm.transfer()).toEqual({ cacheBytesPerPass: 0, readBytesPerPass: 2 * vocab * 4 });
    expect(lm.liveDeviceTensors).toBe(0);
    await lm.release();
  });
});
