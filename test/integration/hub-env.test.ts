/**
 * transformers.js' env is shared: a Hub download switches it to remote-only, and a model folder
 * loaded after that (in the same engine host) must still load. Before the fix, the tokenizer's
 * offline set-up ran only once per process, so the second folder load was refused.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { resolveModels } from '../../src/core/hub/hub';
import { loadTokenizer } from '../../src/core/model/tokenizer';
import { PAIR_DRAFT } from '../support/helpers';
import { startHubServer, type HubServer } from '../support/hubServer';

let hub: HubServer;
beforeAll(async () => {
  hub = await startHubServer({ 'specdec/brown-draft': PAIR_DRAFT });
});
afterAll(async () => hub?.close());

it('loads a folder tokenizer before and after a Hub download in the same process', async () => {
  const before = await loadTokenizer(PAIR_DRAFT);
  const [resolved] = await resolveModels([{ source: 'specdec/brown-draft', dtype: 'fp32' }], {
    cacheDir: mkdtempSync(join(tmpdir(), 'specdec-cache-')),
    hubHost: hub.url,
  });
  expect(resolved!.downloadedBytes).toBeGreaterThan(0);
  const after = await loadTokenizer(PAIR_DRAFT);
  expect(after.encode('The old man said')).toEqual(before.encode('The old man said'));
  // the downloaded copy loads too
  const cached = await loadTokenizer(resolved!.dir);
  expect(cached.encode('The old man said')).toEqual(before.encode('The old man said'));
});
