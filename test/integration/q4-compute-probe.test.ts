/**
 * `--ep auto` with a 4-bit file: the provider probe times the CPU with the products' compute mode
 * that will run (int8 activations or as exported), and a verdict measured in one mode is not
 * reused for the other (src/core/model/providerProbe.ts, providerVerdicts.ts).
 */
import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Q4Compute } from '../../src/shared/decoding';
import { cacheSlots } from '../../src/core/model/architectures/architecture';
import { architectureOf } from '../../src/core/model/architectures/registry';
import { providerUnavailable } from '../../src/core/model/executionProvider';
import { readModelFolder } from '../../src/core/model/modelFolder';
import { loadPair, releasePair } from '../../src/core/model/pair';
import {
  chooseProviders,
  probeFiles,
  type ProbeChildMessage,
  type ProbeRequest,
} from '../../src/core/model/providerProbe';
import { cacheKey } from '../../src/core/model/providerVerdicts';
import { ROOT } from '../support/helpers';

const LAYOUT = join(ROOT, 'test', 'fixtures', 'hub-layouts', 'llama3.2-1b-tiny');
const RECORDING_CHILD = join(ROOT, 'test', 'fixtures', 'probe', 'recordingProbeChild.mjs');
const REAL_CHILD = join(ROOT, 'src', 'core', 'model', 'providerProbeChild.ts');

describe('the probe verdicts of a 4-bit file', () => {
  const folder = readModelFolder(LAYOUT, 'onnx/model_q4.onnx');

  it('are keyed by the compute mode', () => {
    const key = (q4: Q4Compute) => cacheKey(folder, ['cpu', 'webgpu'], [], 1, q4);
    expect(key('int8')).toBe(key('int8'));
    expect(key('int8')).not.toBe(key('exported'));
  });

  it.skipIf(providerUnavailable('webgpu') !== null)(
    'are measured in the mode asked, and kept apart',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'specdec-q4-probe-'));
      const requests = join(dir, 'requests.jsonl');
      process.env.PROBE_REQUESTS = requests;
      const options = { ...probeFiles(dir), launcher: { script: RECORDING_CHILD, execArgv: [] } };
      const asked = (): Array<Array<{ q4Compute: string }>> =>
        existsSync(requests)
          ? readFileSync(requests, 'utf8')
              .trim()
              .split('\n')
              .map((line) => JSON.parse(line) as Array<{ q4Compute: string }>)
          : [];
      const choose = (q4Compute?: Q4Compute) =>
        chooseProviders([{ folder, choice: 'auto', ...(q4Compute ? { q4Compute } : {}) }], options);

      // the default is exported, as the engine opens the file
      expect((await choose())[0]!.cached).toBe(false);
      expect(asked().map((r) => r[0]!.q4Compute)).toEqual(['exported']);
      expect((await choose('exported'))[0]!.cached).toBe(true);
      // exported's verdict is not int8's: int8 is probed in its own mode
      expect((await choose('int8'))[0]!.cached).toBe(false);
      expect(asked().map((r) => r[0]!.q4Compute)).toEqual(['exported', 'int8']);
      expect((await choose('int8'))[0]!.cached).toBe(true);
      expect(asked()).toHaveLength(2);

      // loading a pair passes the mode asked on to the probe, as to the session
      const fresh = { ...options, ...probeFiles(mkdtempSync(join(tmpdir(), 'specdec-q4-pair-'))) };
      const pair = await loadPair(LAYOUT, null, {
        target: {
          executionProvider: 'auto',
          onnxFile: 'onnx/model_q4.onnx',
          // not the default: the probe must be told it
          q4Compute: 'int8',
        },
        probe: fresh,
      });
      try {
        expect(
          asked()
            .at(-1)!
            .map((m) => m.q4Compute),
        ).toEqual(['int8']);
        if (pair.target.lm.executionProvider === 'cpu')
          expect(pair.target.lm.q4Compute).toBe('int8');
      } finally {
        await releasePair(pair);
      }
    },
  );
});

describe('the probe child on a 4-bit file', () => {
  const probeCpu = (q4Compute: Q4Compute) => {
    const f = readModelFolder(LAYOUT, 'onnx/model_q4.onnx');
    const architecture = architectureOf(f.config.modelType);
    const request: ProbeRequest = {
      models: [
        {
          path: f.onnxPath,
          inputs: architecture.inputs,
          cache: {
            slots: cacheSlots(architecture, f.config),
            kvHeads: f.config.nKvHeads,
            headDim: f.config.headDim,
          },
          nPositions: f.config.nPositions,
          vocabSize: f.config.vocabSize,
          deviceCache: [],
          cpuThreads: 1,
          q4Compute,
        },
      ],
      providers: ['cpu'],
      passes: 3,
      budgetMs: 1000,
    };
    return new Promise<ProbeChildMessage[]>((resolve, reject) => {
      const messages: ProbeChildMessage[] = [];
      const child = fork(REAL_CHILD, [], { execArgv: ['--import', 'tsx'], stdio: 'pipe' });
      child.on('message', (m: ProbeChildMessage) => messages.push(m));
      child.on('error', reject);
      child.on('exit', () => resolve(messages));
      child.send(request);
    });
  };

  it.each(['int8', 'exported'] as const)(
    'times the CPU with %s products (the rewritten graph finds its external weights)',
    async (q4Compute) => {
      const messages = await probeCpu(q4Compute);
      const trial = messages.find((m) => m.type === 'trial');
      expect(trial).toMatchObject({ provider: 'cpu', error: null, passes: 3 });
      expect(messages.at(-1)).toEqual({ type: 'done' });
    },
  );
});
