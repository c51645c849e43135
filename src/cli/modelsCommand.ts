/** `specdec models`: the GPT-2 catalog, with estimated sizes and what is already cached. */
import { join } from 'node:path';
import Table from 'cli-table3';
import { CATALOG, estimatedBytes } from '../shared/catalog';
import { DTYPES } from '../shared/decoding';
import { formatBytes } from '../shared/format';
import { readCompleteMarker } from '../core/hub/hub';
import { defaultCacheDir } from './paths';

export function modelsCommand(opts: { cacheDir?: string }): void {
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const table = new Table({
    head: [
      'Name',
      'Repo',
      'Params',
      'Layers x width',
      'fp32 (est.)',
      'fp16 (est.)',
      'q8 (est.)',
      'Cached',
    ],
    style: { head: [], border: [] },
  });
  for (const m of CATALOG) {
    const repo = m.repos[0]!;
    const dir = join(cacheDir, ...repo.split('/'));
    const cached = DTYPES.filter((d) => readCompleteMarker(dir, d) !== null);
    table.push([
      m.name,
      repo,
      `${Math.round(m.params / 1e6)}M`,
      `${m.layers} x ${m.hidden}`,
      formatBytes(estimatedBytes(m, 'fp32')),
      formatBytes(estimatedBytes(m, 'fp16')),
      formatBytes(estimatedBytes(m, 'q8')),
      cached.length > 0 ? cached.join(', ') : '-',
    ]);
  }
  process.stdout.write(`${table.toString()}\nCache: ${cacheDir}\n`);
  process.stdout.write(
    'Any other GPT-2-family repo with an ONNX export can be given by id (--target owner/name). The seed pair is --pair seed (gpt2 drafting for gpt2-medium).\n',
  );
}
