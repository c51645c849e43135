/**
 * `npm run measure:pair`: the embedded pair's quality bars, measured through the same ONNX path
 * the app uses, printed and written into both model cards.
 *
 *   acceptance at K=1 (alpha) over the public prompt set, greedy, CPU        bar >= 0.60
 *   cost ratio c: one-token draft pass / target pass on a 40-token cache      bar <= 0.25
 *   held-out perplexity: target <= 300, draft >= 1.2 x target
 *   all model files together                                                 bar <= 60 MB
 */
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SpeculativeRun } from '../src/core/decoding/speculative';
import { measureCosts } from '../src/core/experiment/costRatio';
import type { OnnxCausalLM } from '../src/core/model/causalLm';
import { loadPair, releasePair } from '../src/core/model/pair';
import { EMBEDDED_PAIR, REPO_ROOT } from '../src/cli/paths';

const PAIR_DIR = join(REPO_ROOT, 'resources', 'models', 'brown-pair');
const PROMPTS = join(REPO_ROOT, 'resources', 'prompts', 'public-prompts.txt');
const NEW_TOKENS = 80;
const WINDOW = 128;

function folderBytes(dir: string): number {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .reduce((sum, e) => sum + statSync(join(e.parentPath, e.name)).size, 0);
}

/** per-token perplexity over non-overlapping windows starting at position 0 (as in training) */
async function perplexity(lm: OnnxCausalLM, ids: number[]): Promise<number> {
  let nll = 0;
  let count = 0;
  for (let s = 0; s + WINDOW + 1 <= ids.length; s += WINDOW) {
    lm.reset();
    const logits = await lm.forward(ids.slice(s, s + WINDOW));
    for (let i = 0; i < WINDOW; i++) {
      const row = logits.row(i);
      let max = -Infinity;
      for (const v of row) max = Math.max(max, v);
      let sum = 0;
      for (const v of row) sum += Math.exp(v - max);
      nll += Math.log(sum) + max - row[ids[s + i + 1]!]!;
      count++;
    }
  }
  lm.reset();
  return Math.exp(nll / count);
}

async function main(): Promise<void> {
  const pair = await loadPair(EMBEDDED_PAIR.target, EMBEDDED_PAIR.draft);
  const prompts = readFileSync(PROMPTS, 'utf8')
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);

  let drafted = 0;
  let accepted = 0;
  for (const prompt of prompts) {
    const r = await new SpeculativeRun(pair, 1, { prompt, maxNewTokens: NEW_TOKENS }).runToEnd();
    drafted += r.metrics.draftedTokens;
    accepted += r.metrics.acceptedTokens;
  }
  const alpha = accepted / drafted;
  const cost = await measureCosts(pair.target.lm, pair.draft!.lm);

  // The held-out Brown files (never trained on), tokenized with EOS between documents.
  const heldout = readFileSync(join(PAIR_DIR, 'heldout.txt'), 'utf8').split('\n\n');
  const ids = heldout.flatMap((doc) => [...pair.tokenizer.encode(doc), pair.eosTokenIds[0]!]);
  const targetPpl = await perplexity(pair.target.lm, ids);
  const draftPpl = await perplexity(pair.draft!.lm, ids);
  const mb = (folderBytes(EMBEDDED_PAIR.target) + folderBytes(EMBEDDED_PAIR.draft)) / 1e6;
  await releasePair(pair);

  const verdict = (ok: boolean): string => (ok ? 'pass' : 'FAIL');
  const lines = [
    `Measured by \`npm run measure:pair\` on ${new Date().toISOString().slice(0, 10)} (CPU, onnxruntime-node, greedy):`,
    '',
    '| bar | measured | target | verdict |',
    '|---|---|---|---|',
    `| acceptance rate at K=1 (alpha), ${prompts.length} public prompts x ${NEW_TOKENS} new tokens | ${alpha.toFixed(3)} (${accepted}/${drafted}) | >= 0.60 | ${verdict(alpha >= 0.6)} |`,
    `| cost ratio c (one-token pass on a 40-token cache, session.run medians) | ${cost.c.toFixed(3)} (${cost.draftMs.toFixed(3)} ms / ${cost.targetMs.toFixed(3)} ms) | <= 0.25 | ${verdict(cost.c <= 0.25)} |`,
    `| target held-out perplexity (${ids.length.toLocaleString('en')} tokens, windows of ${WINDOW}) | ${targetPpl.toFixed(1)} | <= 300 | ${verdict(targetPpl <= 300)} |`,
    `| draft held-out perplexity / target's | ${draftPpl.toFixed(1)} / ${targetPpl.toFixed(1)} = ${(draftPpl / targetPpl).toFixed(2)} | >= 1.2 | ${verdict(draftPpl / targetPpl >= 1.2)} |`,
    `| all model files together | ${mb.toFixed(1)} MB | <= 60 MB | ${verdict(mb <= 60)} |`,
  ];
  const text = lines.join('\n');
  process.stdout.write(text + '\n');
  for (const role of ['target', 'draft']) {
    const cardPath = join(PAIR_DIR, role, 'README.md');
    const card = readFileSync(cardPath, 'utf8');
    const updated = card.replace(
      /<!-- pair-measurements:start -->[\s\S]*<!-- pair-measurements:end -->/,
      `<!-- pair-measurements:start -->\n## Measured with the pair\n${text}\n<!-- pair-measurements:end -->`,
    );
    writeFileSync(cardPath, updated);
  }
}

await main();
