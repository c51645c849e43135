/** The model picker's pure logic: download figures in words, source checks, catalog labels. */
import { describe, expect, it } from 'vitest';
import { CATALOG, catalogEntry } from '../../src/shared/catalog';
import { DTYPES } from '../../src/shared/decoding';
import type { DownloadProgress } from '../../src/shared/protocol';
import {
  bytesDone,
  downloadFraction,
  formatBytes,
  formatEta,
  formatPercent,
  formatSpeed,
} from '../../src/renderer/src/lib/downloadFormat';
import {
  DTYPE_OPTIONS,
  catalogDetails,
  catalogLabel,
  catalogMatch,
  checkModelSource,
  formatParams,
} from '../../src/renderer/src/lib/modelChoice';

const progress = (p: Partial<DownloadProgress>): DownloadProgress => ({
  repo: 'specdec/brown-target',
  file: 'onnx/model.onnx',
  loadedBytes: 0,
  totalBytes: null,
  bytesPerSecond: 0,
  etaS: null,
  ...p,
});

describe('download figures', () => {
  it('formats bytes in decimal units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1500)).toBe('1.5 kB');
    expect(formatBytes(12_345_678)).toBe('12.3 MB');
    expect(formatBytes(999_949_999)).toBe('999.9 MB');
    expect(formatBytes(1_420_000_000)).toBe('1.42 GB');
    expect(formatBytes(null)).toBe('-');
    expect(formatBytes(Number.NaN)).toBe('-');
    expect(formatBytes(-1)).toBe('-');
  });

  it('formats speed in MB/s', () => {
    expect(formatSpeed(3_400_000)).toBe('3.4 MB/s');
    expect(formatSpeed(0)).toBe('0.0 MB/s');
    expect(formatSpeed(Number.POSITIVE_INFINITY)).toBe('-');
  });

  it('formats the time left', () => {
    expect(formatEta(0)).toBe('less than 1 s');
    expect(formatEta(0.4)).toBe('less than 1 s');
    expect(formatEta(42.2)).toBe('42 s');
    expect(formatEta(185)).toBe('3 min 05 s');
    expect(formatEta(3720)).toBe('1 h 02 min');
    expect(formatEta(null)).toBe('-');
  });

  it('gives the fraction and percent done, unknown while the total is', () => {
    expect(downloadFraction(null)).toBeNull();
    expect(downloadFraction(progress({ loadedBytes: 5 }))).toBeNull();
    expect(downloadFraction(progress({ loadedBytes: 25, totalBytes: 100 }))).toBe(0.25);
    expect(downloadFraction(progress({ loadedBytes: 120, totalBytes: 100 }))).toBe(1);
    expect(formatPercent(0.999)).toBe('99%');
    expect(formatPercent(1)).toBe('100%');
    expect(formatPercent(null)).toBe('-');
    expect(bytesDone(progress({ loadedBytes: 2e6, totalBytes: 8e6 }))).toBe('2.0 MB of 8.0 MB');
    expect(bytesDone(progress({ loadedBytes: 2e6 }))).toBe('2.0 MB');
  });
});

describe('model sources', () => {
  it('accepts catalog names and repo ids, and says what is wrong otherwise', () => {
    expect(checkModelSource('embedded', '')).toBeNull();
    expect(checkModelSource('hub', 'gpt2-medium')).toBeNull();
    expect(checkModelSource('hub', 'Xenova/gpt2')).toBeNull();
    expect(checkModelSource('hub', ' specdec/brown-target ')).toBeNull();
    expect(checkModelSource('hub', '')).toMatch(/Type a Hub repo id/);
    expect(checkModelSource('hub', 'gpt2-huge')).toMatch(/"gpt2-huge" is not a Hub repo id/);
    expect(checkModelSource('hub', 'a/b/c')).toMatch(/not a Hub repo id/);
    expect(checkModelSource('hub', 'owner/..')).toMatch(/not a Hub repo id/);
    expect(checkModelSource('folder', '  ')).toMatch(/Choose a model folder/);
    expect(checkModelSource('folder', '/models/gpt2')).toBeNull();
  });

  it('labels catalog models with size estimates per weight type', () => {
    const medium = catalogEntry('gpt2-medium')!;
    expect(catalogLabel(medium, 'fp32')).toBe(
      'gpt2-medium: 355M params, 24 layers, about 1.63 GB (fp32)',
    );
    expect(catalogLabel(medium, 'q8')).toBe(
      'gpt2-medium: 355M params, 24 layers, about 564.8 MB (q8)',
    );
    expect(catalogDetails(medium, 'q8')).toBe('355M params, 24 layers, about 564.8 MB (q8)');
    expect(formatParams(1558e6)).toBe('1.6B');
    expect(catalogMatch('Xenova/gpt2')?.name).toBe('gpt2');
    expect(catalogMatch('specdec/brown-target')).toBeNull();
    expect(CATALOG.every((m) => catalogLabel(m, 'fp32').startsWith(m.name))).toBe(true);
  });

  it('offers every dtype the engine runs, each saying what it trades', () => {
    expect(DTYPE_OPTIONS.map((o) => o.dtype)).toEqual([
      'fp32',
      'q8',
      'fp16',
      'int8',
      'uint8',
      'q4',
      'q4f16',
      'bnb4',
    ]);
    expect([...DTYPE_OPTIONS.map((o) => o.dtype)].sort()).toEqual([...DTYPES].sort());
    expect(DTYPE_OPTIONS.find((o) => o.dtype === 'fp16')!.hint).toMatch(/near-ties/);
    expect(DTYPE_OPTIONS.find((o) => o.dtype === 'q4')!.hint).toMatch(/MatMulNBits/);
  });
});
