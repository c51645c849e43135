/** The renderer's pure logic: the results table's arithmetic, the token stream, replay stops, CSV, validation, chart data. */
import assert from 'node:assert/strict';
import { summarizeRows, bestRow, median, outputSample } from '../../src/results/summary';
import { StreamBuilder, type StreamToken } from '../../src/renderer/src/lib/stream';
import { CHUNK_MAX, chunkTokens, foldRejected, NO_FOLDS } from '../../src/renderer/src/lib/chunks';
import { tokenView } from '../../src/renderer/src/lib/tokenSpans';
import { buildReplayIndex, describeStop } from '../../src/renderer/src/lib/replayIndex';
import { stepsCsv } from '../../src/renderer/src/lib/csv';
import { RUN_CSV_COLUMNS, runsCsv } from '../../src/results/runsCsv';
import { addKs, checkMaxNewTokens, parseWhole } from '../../src/renderer/src/lib/setupValidation';
import {
  acceptanceChartData,
  timeChartData,
  expectedTokensPerPass,
} from '../../src/renderer/src/lib/chartData';
import type { RunRow } from '../../src/shared/protocol';
import type { EngineEvent } from '../../src/shared/events';
import { it } from 'vitest';
import { runRow } from '../support/helpers';

it('renderer logic: summary, stream, replay, CSV, validation and charts behave as the UI needs', () => {
  const row = (p: Partial<RunRow>): RunRow => runRow({ outputText: 'x'.repeat(300), ...p });
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  const rows = [
    row({ mode: 'baseline', k: null, timeS: 2, speedup: 1, repeat: 0 }),
    row({ mode: 'baseline', k: null, timeS: 4, speedup: 1, repeat: 1 }),
    row({ k: 3, timeS: 1, speedup: 2 }),
    row({ k: 3, timeS: 2, speedup: 2, repeat: 1 }),
    row({ k: 1, timeS: 1.5, speedup: 1.5 }),
    row({ k: 2, speedup: null, timeS: 1 }),
  ];
  const s = summarizeRows(rows);
  assert.deepEqual(
    s.map((r) => r.k),
    [null, 1, 2, 3],
  );
  assert.equal(s[0]!.timeS.median, 3);
  assert.equal(s[0]!.timeS.min, 2);
  assert.equal(s[3]!.timeS.median, 1.5);
  assert.equal(s[2]!.speedup!.median, 3, 'fallback speedup = baseline median / time');
  assert.equal(bestRow(s)!.k, 2);
  assert.equal(s[1]!.outputSample.length, 150);
  assert.equal(outputSample('abc'), 'abc');
  // stream
  const ev: EngineEvent[] = [
    {
      type: 'run-start',
      runId: 'a',
      mode: 'speculative',
      k: 3,
      maxNewTokens: 10,
      models: { target: 't', draft: 'd' },
      promptTokenIds: [1, 2],
      promptText: 'Hi',
    },
    {
      type: 'draft',
      runId: 'a',
      step: 1,
      index: 0,
      position: 2,
      tokenId: 5,
      text: ' a',
      draftProb: 0.9,
    },
    {
      type: 'draft',
      runId: 'a',
      step: 1,
      index: 1,
      position: 3,
      tokenId: 6,
      text: ' b',
      draftProb: 0.8,
    },
    {
      type: 'draft',
      runId: 'a',
      step: 1,
      index: 2,
      position: 4,
      tokenId: 7,
      text: ' c',
      draftProb: 0.7,
    },
    {
      type: 'verify',
      runId: 'a',
      step: 1,
      draftedTokenIds: [5, 6, 7],
      verdicts: ['accepted', 'rejected', 'unchecked'],
      targetTokenIds: [5, 8, 9],
      targetProbs: [0.5, 0.1, 0.2],
      minLogitMargin: 1,
    },
    {
      type: 'emit',
      runId: 'a',
      step: 1,
      position: 2,
      tokenId: 5,
      text: ' a',
      kind: 'accepted',
      draftProb: 0.9,
      targetProb: 0.5,
    },
    {
      type: 'emit',
      runId: 'a',
      step: 1,
      position: 3,
      tokenId: 8,
      text: ' z',
      kind: 'correction',
      draftProb: null,
      targetProb: 0.6,
    },
    {
      type: 'step-end',
      runId: 'a',
      step: 1,
      metrics: {
        newTokens: 2,
        targetPasses: 2,
        draftPasses: 3,
        verificationSteps: 1,
        draftedTokens: 3,
        acceptedTokens: 1,
        corrections: 1,
        bonuses: 0,
        targetOnlyTokens: 0,
        acceptanceRate: 1 / 3,
        tokensPerTargetPass: 1,
        timeS: 0.1,
        targetRunS: 0,
        draftRunS: 0,
      },
    },
    {
      type: 'emit',
      runId: 'a',
      step: 2,
      position: 4,
      tokenId: 9,
      text: ' y',
      kind: 'target',
      draftProb: null,
      targetProb: null,
    },
    {
      type: 'step-end',
      runId: 'a',
      step: 2,
      metrics: {
        newTokens: 3,
        targetPasses: 3,
        draftPasses: 3,
        verificationSteps: 1,
        draftedTokens: 3,
        acceptedTokens: 1,
        corrections: 1,
        bonuses: 0,
        targetOnlyTokens: 1,
        acceptanceRate: 1 / 3,
        tokensPerTargetPass: 1,
        timeS: 0.1,
        targetRunS: 0,
        draftRunS: 0,
      },
    },
    {
      type: 'run-end',
      runId: 'a',
      metrics: {
        newTokens: 3,
        targetPasses: 3,
        draftPasses: 3,
        verificationSteps: 1,
        draftedTokens: 3,
        acceptedTokens: 1,
        corrections: 1,
        bonuses: 0,
        targetOnlyTokens: 1,
        acceptanceRate: 1 / 3,
        tokensPerTargetPass: 1,
        timeS: 0.1,
        targetRunS: 0,
        draftRunS: 0,
      },
      stopReason: 'max-new-tokens',
      outputTokenIds: [5, 8, 9],
      outputText: ' a z y',
    },
  ];
  const b = new StreamBuilder();
  for (const e of ev.slice(0, 4)) b.apply(e);
  assert.deepEqual(
    b.tokens.map((t) => t.kind),
    ['prompt', 'draft', 'draft', 'draft'],
  );
  for (const e of ev.slice(4)) b.apply(e);
  assert.deepEqual(
    b.tokens.map((t) => t.kind),
    ['prompt', 'accepted', 'rejected', 'rejected', 'correction', 'target'],
  );
  assert.deepEqual(
    b.tokens.map((t) => t.unchecked),
    [false, false, false, true, false, false],
  );
  assert.equal(b.tokens[1]!.targetProb, 0.5);
  assert.equal(b.done, true);
  const idx = buildReplayIndex(ev);
  assert.deepEqual(
    idx.stops.map((x) => x.cursor),
    [1, 2, 3, 4, 6, 8, 11],
  );
  assert.deepEqual(
    idx.steps.map((x) => [x.step, x.drafts, x.lastStop]),
    [
      [0, 0, 0],
      [1, 3, 5],
      [2, 0, 6],
    ],
  );
  assert.deepEqual(
    idx.stops.map((st) => describeStop(ev, st, idx.steps[st.step]!.drafts)),
    [
      'the prompt',
      'draft 1 of 3',
      'draft 2 of 3',
      'draft 3 of 3',
      'verified: 1 accepted, 2 rejected',
      'correction token',
      'target token',
    ],
  );
  // csv
  const csv = runsCsv([row({ outputText: 'a, "b"\nc' })], {
    prompts: ['p'],
    models: { target: 't', draft: 'd' },
    dtypes: { target: 'fp32', draft: 'fp32' },
    sampling: null,
    repetition: null,
  });
  assert.equal(csv.split('\n')[0], RUN_CSV_COLUMNS.join(','));
  assert.ok(csv.includes('"a, ""b""\nc"'));
  assert.ok(csv.includes(',true,'));
  assert.ok(csv.includes(',1 2\n') || csv.endsWith(',1 2\n'));
  const runId = {
    promptIndex: 0,
    prompt: 'p',
    target: 't',
    draft: 'd',
    mode: 'speculative',
    k: 3,
    policy: 'fixed',
    drafter: 'model',
    repeat: 0,
  };
  const st = stepsCsv(ev, runId).trim().split('\n');
  assert.equal(st.length, 1 + 3 + 3 + 3, st.join('\n'));
  // every step row says which run it belongs to, in the runs CSV's words
  assert.ok(
    st[0]!.startsWith('runId,promptIndex,prompt,target,draft,mode,k,policy,drafter,repeat,step,'),
  );
  assert.ok(st[1]!.includes(',0,p,t,d,speculative,3,fixed,model,0,'));
  // validation
  assert.deepEqual(addKs([1, 2], '3, 5'), { ok: true, ks: [1, 2, 3, 5] });
  assert.equal(addKs([1, 2], '2').ok, false);
  assert.equal(addKs([1], '65').ok, false);
  assert.equal(addKs([1], '1.5').ok, false);
  assert.equal(addKs([1], '3 3').ok, false);
  assert.equal(parseWhole('0', 'x', 1, 5).ok, false);
  // charts
  const td = timeChartData(s);
  assert.equal(td.datasets.length, 4);
  assert.deepEqual(
    td.datasets[0]!.data.map((p) => p.x),
    [1, 2, 3],
  );
  assert.deepEqual(td.datasets[3]!.data, [
    { x: 1, y: 3 },
    { x: 3, y: 3 },
  ]);
  assert.equal(td.datasets[1]!.data.length, 3, 'band when repeats > 1');
  assert.ok(Math.abs(expectedTokensPerPass(0.5, 1) - 1.5) < 1e-12);
  assert.equal(expectedTokensPerPass(1, 4), 5);
  assert.equal(acceptanceChartData(s).datasets.length, 8);
});

it('ends chunks where the text reads as if it could, and never moves a closed chunk', () => {
  let key = 0;
  const tok = (text: string, kind: StreamToken['kind'] = 'accepted'): StreamToken => ({
    key: key++,
    kind,
    text,
    tokenId: key,
    step: 1,
    position: key,
    draftProb: null,
    targetProb: null,
    unchecked: false,
    outputIndex: null,
  });
  const words = (n: number): StreamToken[] => Array.from({ length: n }, () => tok(' word'));
  // min 3, max 5: a sentence end before the third token does not end a chunk; one at or after
  // it does, a newline too; a rejected or pending draft's full stop does not (it is not the
  // text); five tokens with no such place end at five
  const tokens = [
    tok('.'),
    ...words(2),
    tok(' end.'),
    ...words(2),
    tok('!"'),
    ...words(2),
    tok('.', 'rejected'),
    tok('.', 'draft'),
    ...words(3),
  ];
  const sizes = (cs: readonly { tokens: readonly StreamToken[] }[]): number[] =>
    cs.map((c) => c.tokens.length);
  const chunks = chunkTokens(tokens, [], 3, 5);
  assert.deepEqual(sizes(chunks), [4, 3, 5, 2]);
  assert.deepEqual(
    chunks.map((c) => c.start),
    [0, 4, 7, 12],
  );
  // appending reuses every chunk before the open last one, objects and all; a newline closes it
  const more = chunkTokens([...tokens, tok('\n'), ...words(2)], chunks, 3, 5);
  assert.deepEqual(sizes(more), [4, 3, 5, 3, 2]);
  for (let i = 0; i < 3; i++) assert.equal(more[i], chunks[i]);
  assert.notEqual(more[3], chunks[3]);
  // the real sizes: a long loop with no full stop still ends chunks at CHUNK_MAX
  assert.deepEqual(sizes(chunkTokens(words(CHUNK_MAX + 10), [])), [CHUNK_MAX, 10]);
});

it('folds each step’s rejected drafts into one marker, across chunks, reusing unchanged chunks', () => {
  const tok = (key: number, kind: StreamToken['kind'], step: number | null): StreamToken => ({
    key,
    kind,
    text: `t${key}`,
    tokenId: key,
    step,
    position: key,
    draftProb: null,
    targetProb: null,
    unchecked: false,
    outputIndex: null,
  });
  // prompt; step 1: accepted, 3 rejected, correction; step 2: 2 rejected that straddle a chunk
  // boundary (size 4 below), then a correction
  const tokens = [
    tok(0, 'prompt', null),
    tok(1, 'accepted', 1),
    tok(2, 'rejected', 1),
    tok(3, 'rejected', 1),
    tok(4, 'rejected', 1),
    tok(5, 'correction', 1),
    tok(6, 'rejected', 2),
    tok(7, 'rejected', 2),
    tok(8, 'correction', 2),
  ];
  const chunks = chunkTokens(tokens, [], 4, 4);
  const folds = foldRejected(tokens, chunks, new Set(), []);
  assert.deepEqual(
    folds.map((f) => [[...f.heads], [...f.hidden]]),
    [
      [[[2, 3]], [3]],
      [[[6, 2]], [4, 7]],
      [[], []],
    ],
  );
  // an open step is drawn in full
  const open = foldRejected(tokens, chunks, new Set([2]), folds);
  assert.deepEqual([...open[1]!.heads], []);
  assert.deepEqual([...open[1]!.hidden], [4]);
  // unchanged chunks keep their objects, so the view re-checks only what changed
  assert.equal(open[0], folds[0]);
  assert.notEqual(open[1], folds[1]);
  assert.equal(open[2], NO_FOLDS);
});

it('caps max new tokens by the pair’s context when it is known', () => {
  assert.deepEqual(checkMaxNewTokens('511', 512), { ok: true, value: 511 });
  assert.deepEqual(checkMaxNewTokens('512', 512), {
    ok: false,
    message:
      "At most 511 new tokens with this pair: its models hold 512 tokens, the prompt's included.",
  });
  // unknown (a local folder): only the form's own bound; the engine checks the fit
  assert.deepEqual(checkMaxNewTokens('5000', null), { ok: true, value: 5000 });
  assert.equal(checkMaxNewTokens('0', 512).ok, false);
});

it('token views: the class, label and attributes a stream span gets, and what a fold marker says', () => {
  const token = (p: Partial<StreamToken>): StreamToken => ({
    key: 1,
    kind: 'accepted',
    text: ' cat',
    tokenId: 9,
    step: 2,
    position: 5,
    draftProb: 0.5,
    targetProb: 0.6,
    unchecked: false,
    outputIndex: 3,
    ...p,
  });
  const base = { tabbable: false, describedBy: 'tip', loop: null, folded: null, current: false };
  const plain = tokenView(token({}), 7, base);
  assert.equal(plain.className, 'tok accepted');
  assert.equal(plain.text, ' cat');
  assert.equal(plain.attrs['data-index'], '7');
  assert.equal(plain.attrs['data-step'], '2');
  assert.equal(plain.attrs['data-fold-step'], null);
  assert.equal(plain.attrs['tabindex'], '-1');
  assert.equal(plain.attrs['aria-selected'], 'false');
  assert.equal(plain.attrs['data-testid'], 'token');

  // the fold marker: its count, the step it folds, and no "unchecked" strike of its own
  const marker = tokenView(token({ kind: 'rejected', unchecked: true }), 8, { ...base, folded: 3 });
  assert.equal(marker.className, 'tok rejected folded');
  assert.equal(marker.text, '\u27153');
  assert.equal(marker.attrs['data-testid'], 'rejected-fold');
  assert.equal(marker.attrs['data-fold-step'], '2');
  assert.match(marker.attrs['aria-label']!, /^3 rejected drafts at step 2, folded/);

  // a loop's first token, the tab stop and the current step
  const loop = { start: 3, period: 2, cycleText: ' cat dog' };
  const start = tokenView(token({}), 7, { ...base, loop, tabbable: true, current: true });
  assert.equal(start.className, 'tok accepted current loop-start');
  assert.equal(start.attrs['data-loop'], 'start');
  assert.equal(start.attrs['tabindex'], '0');
  assert.match(start.attrs['aria-label']!, /\(the loop begins here\)$/);
  // the loop is marked once: not on the rest of it, nor where a later repeat begins
  for (const outputIndex of [4, 5, 7]) {
    const later = tokenView(token({ outputIndex }), 8, { ...base, loop });
    assert.equal(later.attrs['data-loop'], null);
    assert.equal(later.className, 'tok accepted');
  }
  assert.equal(tokenView(token({ text: '' }), 8, base).text, '\u2205');
  assert.equal(
    tokenView(token({ kind: 'prompt', step: null, text: 'Once' }), 0, base).attrs['aria-label'],
    'Prompt: Once',
  );
});
