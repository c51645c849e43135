/**
 * Models from the Hugging Face Hub, fetched with transformers.js' hub support into a cache
 * folder, then loaded by our own engine like any local folder.
 *
 * - The cache is transformers.js' file cache: `{cacheDir}/{repo}/{file}`, i.e. a folder in the
 *   Hub's layout. Each file is written to a temporary name and renamed when complete, so a
 *   half-written file never takes a real name.
 * - A model counts as cached only when our marker `.specdec-{dtype}.json` lists its files with
 *   the sizes the Hub reported, and the files on disk have them. The marker is written last, so
 *   an interrupted download is never loaded: the next run deletes leftovers and starts it again.
 * - A cached model is used without any request; `offline` never makes one.
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { writeFileAtomic } from '../atomicWrite';
import { readModelText } from '../model/modelFiles';
import { isAbsolute, join, resolve } from 'node:path';
import { AutoModelForCausalLM, AutoTokenizer, ModelRegistry, env } from '@huggingface/transformers';
import {
  CATALOG,
  catalogEntry,
  isRepoId,
  onnxFileCandidates,
  DTYPE_SUFFIX,
} from '../../shared/catalog';
import { DTYPES } from '../../shared/decoding';
import type { Dtype } from '../../shared/decoding';
import type { DownloadProgress } from '../../shared/protocol';
import { SpecDecError } from '../errors';
import { DEFAULT_HUB_HOST, freeBytesOn, hubError, mb, nearestExisting } from './hubErrors';

export { DEFAULT_HUB_HOST };

export interface HubOptions {
  cacheDir: string;
  /** a Hub mirror; default huggingface.co */
  hubHost?: string;
  /** use the cache only */
  offline?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  /** free bytes on the cache's disk (tests replace it) */
  freeBytes?: (dir: string) => number;
}

export interface ResolvedModel {
  /** a folder in Hugging Face layout */
  dir: string;
  /** the Hub repo it came from; null for a local folder */
  repo: string | null;
  /** the ONNX file inside `dir` to load; null: the folder's default */
  onnxFile: string | null;
  /** bytes fetched over the network for it */
  downloadedBytes: number;
}

interface Marker {
  repo: string;
  dtype: Dtype;
  onnxFile: string;
  files: Array<{ file: string; size: number }>;
}

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'];

/**
 * Files fetched where the repo has them that transformers.js' loaders never ask for: newer exports
 * keep the chat template in chat_template.jinja (read by src/core/model/tokenizer.ts where
 * tokenizer_config.json has none), which its AutoTokenizer does not fetch.
 */
const OWN_FETCH_FILES = ['chat_template.jinja'];

/**
 * A local folder, a catalog name (`gpt2-medium`) or a Hub repo id (`Xenova/gpt2`). Folders win:
 * an existing folder is never taken for a repo id.
 */
export function describeSource(source: string): { kind: 'folder' } | { kind: 'hub'; repo: string } {
  // Anything spelled like a path is a folder, even a missing one (its error names the folder).
  if (existsSync(source) || isAbsolute(source) || /^[.~]|\\/.test(source)) {
    return { kind: 'folder' };
  }
  const entry = catalogEntry(source);
  if (entry) return { kind: 'hub', repo: entry.repos[0]! };
  if (isRepoId(source)) return { kind: 'hub', repo: source };
  throw new SpecDecError(
    'MODEL_FOLDER_MISSING',
    `"${source}" is not a folder, a catalog model (${CATALOG.map((m) => m.name).join(', ')}) or a Hub repo id like Xenova/gpt2.`,
  );
}

/**
 * Where each model's folder is: a local folder as it is, a Hub model from the cache or downloaded
 * now, all downloads of the call under one progress total (the pair: target and draft).
 */
export async function resolveModels(
  models: ReadonlyArray<{ source: string; dtype: Dtype }>,
  options: HubOptions,
): Promise<ResolvedModel[]> {
  const results: Array<ResolvedModel | null> = models.map((m) =>
    describeSource(m.source).kind === 'folder'
      ? { dir: resolve(m.source), repo: null, onnxFile: null, downloadedBytes: 0 }
      : null,
  );
  const hub = models.flatMap((m, i) => {
    const d = describeSource(m.source);
    return d.kind === 'hub' ? [{ index: i, repo: d.repo, dtype: m.dtype }] : [];
  });
  const fetched = await fetchPlanned(await planDownloads(hub, options), options);
  hub.forEach((h, j) => (results[h.index] = fetched[j]!));
  return results as ResolvedModel[];
}

interface Planned {
  repo: string;
  dtype: Dtype;
  dir: string;
  /** null: already cached */
  files: Array<{ file: string; size: number | null }> | null;
  onnxFile: string;
}

function repoDir(cacheDir: string, repo: string): string {
  return join(resolve(cacheDir), ...repo.split('/'));
}

function markerPath(dir: string, dtype: Dtype): string {
  return join(dir, `.specdec-${dtype}.json`);
}

/** The marker, when every file it lists is on disk with its size; else null. */
export function readCompleteMarker(dir: string, dtype: Dtype): Marker | null {
  try {
    // bounded, and never blocked by a FIFO someone left in the cache: a bad marker is no marker
    const marker = JSON.parse(readModelText(dir, markerPath(dir, dtype), 1 << 20)) as Marker;
    const whole = marker.files.every((f) => {
      const p = join(dir, f.file);
      return existsSync(p) && statSync(p).isFile() && statSync(p).size === f.size;
    });
    return whole ? marker : null;
  } catch {
    return null;
  }
}

function configureHub(options: HubOptions): void {
  const host = options.hubHost ?? DEFAULT_HUB_HOST;
  env.remoteHost = host.endsWith('/') ? host : `${host}/`;
  env.cacheDir = resolve(options.cacheDir);
  env.useFSCache = true;
  // Only the Hub (or the mirror) and our cache; never transformers.js' own models folder.
  env.allowLocalModels = false;
  env.allowRemoteModels = true;
}

async function planDownloads(
  models: ReadonlyArray<{ repo: string; dtype: Dtype }>,
  options: HubOptions,
): Promise<Planned[]> {
  const planned: Planned[] = [];
  for (const { repo, dtype } of models) {
    const dir = repoDir(options.cacheDir, repo);
    const marker = readCompleteMarker(dir, dtype);
    if (marker) {
      planned.push({ repo, dtype, dir, files: null, onnxFile: marker.onnxFile });
      continue;
    }
    if (options.offline) {
      throw new SpecDecError(
        'HUB_OFFLINE',
        `${repo} (${dtype}) is not in the download cache ${resolve(options.cacheDir)}, and offline mode is on. Run once online to download it, or turn offline mode off.`,
      );
    }
    configureHub(options);
    const head = (file: string) => metadata(repo, file, options);
    const config = await head('config.json');
    if (!config.exists) {
      throw new SpecDecError(
        'HUB_NOT_FOUND',
        `${repo} was not found on ${env.remoteHost} (no config.json), and there is no local folder of that name. Check the repo id (for example Xenova/gpt2) or the folder path, or pick a model from the catalog.`,
      );
    }
    let onnxFile: string | null = null;
    let onnxSize: number | null = null;
    for (const candidate of onnxFileCandidates(dtype)) {
      const m = await head(candidate);
      if (m.exists) {
        onnxFile = candidate;
        onnxSize = m.size ?? null;
        break;
      }
    }
    if (!onnxFile) {
      const present = await dtypesPresent(head);
      throw new SpecDecError(
        'HUB_FILE_MISSING',
        `${repo} has no ${dtype} ONNX decoder (looked for ${onnxFileCandidates(dtype).join(', ')}). ${
          present.length > 0
            ? `It has ${present.join(', ')}: pass --dtype ${present[0]} (or another of those).`
            : 'It has no ONNX decoder of any dtype: choose a repo with an ONNX export (transformers.js-ready).'
        }`,
      );
    }
    const files: Array<{ file: string; size: number | null }> = [
      { file: 'config.json', size: config.size ?? null },
      { file: onnxFile, size: onnxSize },
      // its weights beside it, as one file or split (transformers.js' names: _data, _data_1, ...)
      ...(await externalDataFiles(onnxFile, head)),
    ];
    for (const file of TOKENIZER_FILES) {
      const m = await head(file);
      if (m.exists) files.push({ file, size: m.size ?? null });
      else if (file === 'tokenizer.json') {
        throw new SpecDecError(
          'HUB_FILE_MISSING',
          `${repo} has no tokenizer.json. The engine needs the fast tokenizer file; choose a transformers.js-ready repo.`,
        );
      }
    }
    for (const file of OWN_FETCH_FILES) {
      const m = await head(file);
      if (m.exists) files.push({ file, size: m.size ?? null });
    }
    planned.push({ repo, dtype, dir, files, onnxFile });
  }
  const need = planned.reduce(
    (sum, p) => sum + (p.files ?? []).reduce((s, f) => s + (f.size ?? 0), 0),
    0,
  );
  if (need > 0) {
    const free = (options.freeBytes ?? freeBytesOn)(nearestExisting(options.cacheDir));
    if (free < need * 1.05) {
      throw new SpecDecError(
        'DISK_FULL',
        `Not enough disk space for the download: it needs ${mb(need)} and ${mb(free)} is free where the cache is (${resolve(options.cacheDir)}). Free some space or choose another cache folder.`,
        ['cacheDir'],
      );
    }
  }
  return planned;
}

/** transformers.js caps a file's external data at this many chunks (MAX_EXTERNAL_DATA_CHUNKS) */
const MAX_DATA_CHUNKS = 100;

/** `{onnxFile}_data`, `_data_1`, ... as far as the repo has them, with their sizes */
async function externalDataFiles(
  onnxFile: string,
  head: (file: string) => Promise<{ exists: boolean; size?: number }>,
): Promise<Array<{ file: string; size: number | null }>> {
  const files: Array<{ file: string; size: number | null }> = [];
  for (let i = 0; i < MAX_DATA_CHUNKS; i++) {
    const file = `${onnxFile}_data${i === 0 ? '' : `_${i}`}`;
    const m = await head(file);
    if (!m.exists) break;
    files.push({ file, size: m.size ?? null });
  }
  return files;
}

/** the dtypes whose decoder the repo has (asked only when the one wanted is missing) */
async function dtypesPresent(
  head: (file: string) => Promise<{ exists: boolean }>,
): Promise<Dtype[]> {
  const present: Dtype[] = [];
  for (const dtype of DTYPES) {
    for (const candidate of onnxFileCandidates(dtype)) {
      if ((await head(candidate)).exists) {
        present.push(dtype);
        break;
      }
    }
  }
  return present;
}

async function metadata(
  repo: string,
  file: string,
  options: HubOptions,
): Promise<{ exists: boolean; size?: number }> {
  try {
    return await withSignal(options.signal, () =>
      ModelRegistry.get_file_metadata(repo, file, { cache_dir: resolve(options.cacheDir) }),
    );
  } catch (err) {
    throw hubError(err, repo, options);
  }
}

async function fetchPlanned(plan: Planned[], options: HubOptions): Promise<ResolvedModel[]> {
  const total = plan.reduce(
    (sum, p) => sum + (p.files ?? []).reduce((s, f) => s + (f.size ?? 0), 0),
    0,
  );
  const unknownSize = plan.some((p) => p.files?.some((f) => f.size === null));
  const loadedByFile = new Map<string, number>();
  const started = performance.now();
  let lastReport = 0;
  const results: ResolvedModel[] = [];
  for (const p of plan) {
    if (!p.files) {
      results.push({ dir: p.dir, repo: p.repo, onnxFile: p.onnxFile, downloadedBytes: 0 });
      continue;
    }
    removeLeftovers(p.dir, p.dtype);
    const report = (file: string, loaded: number, force = false): void => {
      loadedByFile.set(`${p.repo}/${file}`, loaded);
      const now = performance.now();
      if (!force && now - lastReport < 100) return;
      lastReport = now;
      const done = [...loadedByFile.values()].reduce((a, b) => a + b, 0);
      const seconds = (now - started) / 1000;
      const rate = seconds > 0 ? done / seconds : 0;
      options.onProgress?.({
        repo: p.repo,
        file,
        loadedBytes: done,
        totalBytes: unknownSize ? null : total,
        bytesPerSecond: rate,
        etaS: !unknownSize && rate > 0 ? Math.max(0, (total - done) / rate) : null,
      });
    };
    const progress_callback = (info: unknown): void => {
      const e = info as { status?: string; file?: string; loaded?: number };
      // Only the files we asked for count (transformers.js also fetches generation_config.json).
      const counted = p.files!.some((f) => f.file === e.file);
      if (e.status === 'progress' && counted && typeof e.loaded === 'number') {
        report(e.file!, e.loaded);
      }
    };
    const common = {
      cache_dir: resolve(options.cacheDir),
      progress_callback,
    };
    const onnxBase = p.onnxFile
      .replace(/^onnx\//, '')
      .replace(/\.onnx$/, '')
      .replace(new RegExp(`${DTYPE_SUFFIX[p.dtype]}$`), '');
    try {
      await withSignal(options.signal, async () => {
        await AutoTokenizer.from_pretrained(p.repo, common);
        // transformers.js fetches the decoder through its model loader, which also opens a
        // session on it; we only want the file, so that session is closed at once.
        const model = await AutoModelForCausalLM.from_pretrained(p.repo, {
          ...common,
          dtype: p.dtype,
          device: 'cpu',
          model_file_name: onnxBase,
          // the number of data files (transformers.js fetches `_data`, `_data_1`, ... up to it)
          use_external_data_format: p.files!.filter((f) => /\.onnx_data(_\d+)?$/.test(f.file))
            .length,
        });
        await model.dispose();
        for (const f of p.files!) {
          if (OWN_FETCH_FILES.includes(f.file)) await fetchOwn(p.repo, f.file, p.dir);
        }
      });
    } catch (err) {
      removeLeftovers(p.dir, p.dtype);
      throw hubError(err, p.repo, options);
    }
    // Every file must be on disk with the size the Hub announced before the marker says so.
    const files: Marker['files'] = [];
    for (const f of p.files) {
      const path = join(p.dir, f.file);
      const size = existsSync(path) ? statSync(path).size : -1;
      if (size < 0 || (f.size !== null && size !== f.size)) {
        removeLeftovers(p.dir, p.dtype);
        rmSync(path, { force: true });
        throw new SpecDecError(
          'HUB_INTERRUPTED',
          `The download of ${p.repo}/${f.file} is incomplete (${size < 0 ? 'missing' : `${size} of ${f.size} bytes`}); nothing partial was kept. Run again to restart it.`,
        );
      }
      files.push({ file: f.file, size });
      report(f.file, size, true);
    }
    const marker: Marker = { repo: p.repo, dtype: p.dtype, onnxFile: p.onnxFile, files };
    writeFileAtomic(markerPath(p.dir, p.dtype), JSON.stringify(marker, null, 2));
    results.push({
      dir: p.dir,
      repo: p.repo,
      onnxFile: p.onnxFile,
      downloadedBytes: files.reduce((s, f) => s + f.size, 0),
    });
  }
  return results;
}

/**
 * A small text file the loaders do not fetch, from the same URL they would use (the host or
 * mirror, `{repo}/resolve/main/{file}`, HF_TOKEN for a gated repo as theirs), written whole or
 * not at all; its size is checked against the Hub's with the others.
 */
async function fetchOwn(repo: string, file: string, dir: string): Promise<void> {
  const path = env.remotePathTemplate.replaceAll('{model}', repo).replaceAll('{revision}', 'main');
  const token = process.env.HF_TOKEN;
  const response = (await env.fetch(
    `${env.remoteHost}${path}${file}`,
    token ? { headers: { Authorization: `Bearer ${token}` } } : {},
  )) as Response;
  if (!response.ok) throw new Error(`${file}: the Hub answered ${response.status}`);
  writeFileAtomic(join(dir, file), await response.text());
}

/** Temporary files of an interrupted download (transformers.js writes `{file}.tmp.{pid}.{id}`). */
function removeLeftovers(dir: string, dtype: Dtype): void {
  rmSync(markerPath(dir, dtype), { force: true });
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (/\.tmp\.[^/\\]+$/.test(entry)) rmSync(join(dir, entry), { force: true });
  }
}

/** Only one download runs at a time per process, so one abortable fetch is enough. */
const defaultFetch = env.fetch;
async function withSignal<T>(signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
  if (signal?.aborted) throw new SpecDecError('CANCELLED', 'The download was cancelled.');
  env.fetch = signal
    ? (input: string | URL, init?: RequestInit) => defaultFetch(input, { ...init, signal })
    : defaultFetch;
  try {
    return await work();
  } finally {
    env.fetch = defaultFetch;
  }
}
