/**
 * `specdec models`: the catalog, with estimated sizes per dtype and what is already cached, then
 * the natural pairs with the cost ratio to expect and the figures published for them.
 */
import { join } from 'node:path';
import Table from 'cli-table3';
import { CATALOG, estimatedBytes, expectedCostRatio } from '../shared/catalog';
import { CATALOG_PAIRS, pairModels, publishedText } from '../shared/catalogPairs';
import { DTYPES, type Dtype } from '../shared/decoding';
import { formatBytes } from '../shared/format';
import { readCompleteMarker } from '../core/hub/hub';
import { defaultCacheDir } from './paths';

/** the sizes shown per model (every dtype is accepted by --dtype where the repo has its file) */
const SHOWN_DTYPES: readonly Dtype[] = ['fp32', 'fp16', 'q8', 'q4', 'q4f16'];

export function modelsCommand(opts: { cacheDir?: string }): void {
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const table = new Table({
    head: [
      'Name',
      'Family',
      'Repo',
      'Params',
      'Layers x width',
      ...SHOWN_DTYPES.map((d) => `${d} (est.)`),
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
      m.family,
      repo,
      `${Math.round(m.params / 1e6)}M`,
      `${m.layers} x ${m.hidden}`,
      ...SHOWN_DTYPES.map((d) => (m.dtypes.includes(d) ? formatBytes(estimatedBytes(m, d)) : '-')),
      cached.length > 0 ? cached.join(', ') : '-',
    ]);
  }
  process.stdout.write(
    `${table.toString()}\nint8 and uint8 files weigh as q8, bnb4 a little under q4. Cache: ${cacheDir}\n`,
  );
  const pairs = new Table({
    head: ['Pair (--pair)', 'Draft -> target', 'Expected c', 'Published'],
    style: { head: [], border: [] },
    colWidths: [20, 30, 12, 70],
    wordWrap: true,
  });
  for (const p of CATALOG_PAIRS) {
    const { draft, target } = pairModels(p);
    pairs.push([
      p.name,
      `${draft.name} -> ${target.name}`,
      expectedCostRatio(draft, target).toFixed(2),
      p.published.length > 0 ? p.published.map(publishedText).join('\n') : '-',
    ]);
  }
  process.stdout.write(`\n${pairs.toString()}\n`);
  process.stdout.write(
    'Any other repo with an ONNX export of a family the engine runs (gpt2, llama, qwen2, phi3) can be given by id (--target owner/name). Sizes are estimated from the dimensions; a download reads the exact ones first.\n',
  );
}
