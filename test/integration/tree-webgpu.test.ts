/**
 * Token trees with the KV cache on the device (WebGPU on SwiftShader, as webgpu.test.ts): the
 * paths' rows tiled, the accepted path's row kept and crops done by the gather graph on the
 * device (deviceGraphs.ts), so greedy tree output is the CPU's and no cache byte crosses to the
 * host. Skipped, with the reason, where the driver or the Vulkan loader is missing.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaselineRun } from '../../src/core/decoding/baseline';
import { TreeRun, type TreeRunOptions } from '../../src/core/decoding/tree/treeRun';
import { providerUnavailable } from '../../src/core/model/executionProvider';
import { loadPair, releasePair, type ModelPair } from '../../src/core/model/pair';
import type { EngineEvent } from '../../src/shared/events';
import { MICRO_A, MICRO_B, PAIR_DRAFT, PAIR_TARGET } from '../support/helpers';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
const reason = !existsSync(SWIFTSHADER)
  ? `${SWIFTSHADER} not found (apt-get install chromium libvulkan1)`
  : providerUnavailable('webgpu');
if (reason === null) process.env.VK_ICD_FILENAMES = SWIFTSHADER;

const gpu = { executionProvider: 'webgpu' as const, kvLocation: 'device' as const };

/** a tree run's events and result */
async function treeRun(pair: ModelPair, options: TreeRunOptions) {
  const run = new TreeRun(pair, options);
  const events: EngineEvent[] = [];
  for await (const e of run.events()) events.push(e);
  return { events, result: await run.runToEnd() };
}

describe.skipIf(reason !== null)('token trees with the KV cache on the device', () => {
  const pairs: Record<string, { cpu: ModelPair; gpu: ModelPair }> = {};
  beforeAll(async () => {
    for (const [name, target, draft] of [
      ['micro', MICRO_A, MICRO_B],
      ['embedded', PAIR_TARGET, PAIR_DRAFT],
    ] as const)
      pairs[name] = {
        cpu: await loadPair(target, draft),
        gpu: await loadPair(target, draft, { target: gpu, draft: gpu }),
      };
  }, 300_000);
  afterAll(async () => {
    for (const p of Object.values(pairs)) {
      await releasePair(p.cpu);
      await releasePair(p.gpu);
    }
  });

  it('greedy trees (shapes, a budget) are the CPU baseline, verified as rows, 0 cache bytes per pass', async () => {
    for (const [name, prompt] of [
      ['micro', 'the cat sat on'],
      ['embedded', 'The jury said'],
    ] as const) {
      const { cpu, gpu: dev } = pairs[name]!;
      expect(dev.target.lm.kvLocation).toBe('device');
      const opts = { prompt, maxNewTokens: 12 };
      const base = await new BaselineRun(cpu, opts).runToEnd();
      for (const tree of [{ shape: [3, 2, 1] }, { shape: [2, 2] }, { budget: 6 }]) {
        const label = `${name} ${JSON.stringify(tree)}`;
        const onCpu = await treeRun(cpu, { ...opts, ...tree, verify: 'rows' });
        const onDev = await treeRun(dev, { ...opts, ...tree });
        expect(onDev.result.outputTokenIds, label).toEqual(base.outputTokenIds);
        expect(onDev.result.tree?.verify, label).toBe('rows');
        expect(onDev.result.metrics.targetPasses, label).toBe(onCpu.result.metrics.targetPasses);
        // the same trees and verdicts as on the CPU: the draft's cache rows were the right ones
        const verdicts = (r: typeof onDev) =>
          r.events.flatMap((e) => (e.type === 'verify' ? e.tree!.nodes : []));
        expect(
          verdicts(onDev).map((n) => [n.tokenId, n.verdict]),
          label,
        ).toEqual(verdicts(onCpu).map((n) => [n.tokenId, n.verdict]));
        // the caches never left the device: only logits rows came back
        expect(onDev.result.metrics.transfer, label).toMatchObject({
          cacheBytesPerPass: 0,
          draft: { cacheBytesPerPass: 0 },
        });
        // one row per slot held between runs, nothing leaked by the gathers
        const slots = (pair: ModelPair) => 2 * pair.target.folder.config.nLayer;
        expect(dev.target.lm.liveDeviceTensors, label).toBe(slots(dev));
      }
    }
  }, 600_000);

  it('a sampled tree runs on the device, reproducible for a seed', async () => {
    const { gpu: dev } = pairs.micro!;
    const opts = {
      prompt: 'the cat sat on',
      maxNewTokens: 10,
      shape: [2, 2],
      sampling: { temperature: 1, topK: 0, topP: 1, seed: 5 },
    };
    const a = await treeRun(dev, opts);
    const b = await treeRun(dev, opts);
    expect(a.result.outputTokenIds).toHaveLength(10);
    expect(b.result.outputTokenIds).toEqual(a.result.outputTokenIds);
    expect(a.result.metrics.transfer).toMatchObject({ cacheBytesPerPass: 0 });
  }, 300_000);
});
