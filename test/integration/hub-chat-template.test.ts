/**
 * The Hub download brings chat_template.jinja along where the repo has one (newer exports keep
 * the chat template there, and transformers.js' AutoTokenizer never fetches it), counts it in the
 * cache's marker, and the pair loaded from the cache renders prompts in it; a repo without one is
 * downloaded as before.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCompleteMarker, resolveModels } from '../../src/core/hub/hub';
import { openPair } from '../../src/core/hub/openPair';
import { releasePair } from '../../src/core/model/pair';
import { startHubServer, type HubServer } from '../support/hubServer';
import { INSTRUCT_TEMPLATE, LLAMA_LAYOUT, instructHubLayout } from '../support/instructLayout';

const INSTRUCT = 'specdec/llama-instruct';
const BASE = 'specdec/llama-base';
let hub: HubServer;

beforeAll(async () => {
  hub = await startHubServer({ [INSTRUCT]: instructHubLayout(), [BASE]: LLAMA_LAYOUT });
});
afterAll(async () => hub?.close());

const freshCache = (): string => mkdtempSync(join(tmpdir(), 'specdec-hub-jinja-'));
const bodyGets = (repo: string, file: string): string[] =>
  hub.requests.filter((r) => r === `GET /${repo}/resolve/main/${file}`);

describe('chat_template.jinja from the Hub', () => {
  it('is fetched with the model, counted in the marker, and applied to the prompt', async () => {
    const cacheDir = freshCache();
    const [resolved] = await resolveModels([{ source: INSTRUCT, dtype: 'q4f16' }], {
      cacheDir,
      hubHost: hub.url,
    });
    const dir = resolved!.dir;
    expect(readFileSync(join(dir, 'chat_template.jinja'), 'utf8')).toBe(INSTRUCT_TEMPLATE);
    expect(bodyGets(INSTRUCT, 'chat_template.jinja')).toHaveLength(1);
    const marker = readCompleteMarker(dir, 'q4f16')!;
    expect(marker.files.map((f) => f.file)).toContain('chat_template.jinja');
    expect(resolved!.downloadedBytes).toBe(marker.files.reduce((s, f) => s + f.size, 0));

    // from the cache, without a request, the pair renders its prompts in the template
    const before = hub.requests.length;
    const spec = { source: INSTRUCT, dtype: 'q4f16' as const, ep: 'cpu' as const };
    const opened = await openPair(spec, spec, { cacheDir, hubHost: hub.url });
    try {
      expect(hub.requests.length).toBe(before);
      expect(opened.pair.chatTemplate).toBe('applied');
      const ids = opened.pair.tokenizer.encode('Hello');
      // {{ bos_token }} first, then the user's header: more ids than the prompt alone
      expect(ids[0]).toBe(556);
      expect(ids.length).toBeGreaterThan(opened.pair.target.tokenizer.encode('Hello').length + 4);
    } finally {
      await releasePair(opened.pair);
    }
  });

  it('is not asked for beyond its metadata when the repo has none', async () => {
    const [resolved] = await resolveModels([{ source: BASE, dtype: 'fp32' }], {
      cacheDir: freshCache(),
      hubHost: hub.url,
    });
    expect(existsSync(join(resolved!.dir, 'chat_template.jinja'))).toBe(false);
    expect(bodyGets(BASE, 'chat_template.jinja')).toHaveLength(0);
    expect(readCompleteMarker(resolved!.dir, 'fp32')!.files.map((f) => f.file)).not.toContain(
      'chat_template.jinja',
    );
  });
});
