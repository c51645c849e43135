/**
 * The renderer's pure helpers for the app's views of trees and families: the strip's nodes and
 * accepted path per tree, the scatter's label placement (no label over another or over a point),
 * the chat template's text around the typed prompt, the engine's CLI advice in the app's words,
 * and the step-by-step run's choice of a chain or a tree.
 */
import { describe, expect, it } from 'vitest';
import type { EngineEvent, TreeNodeEvent } from '../../src/shared/events';
import { describeTreeStrip, treeStrip } from '../../src/renderer/src/lib/kPerStep';
import { placeLabels, type Box } from '../../src/renderer/src/lib/labelPlacement';
import { StreamBuilder, templateParts } from '../../src/renderer/src/lib/stream';
import { inAppWords } from '../../src/renderer/src/lib/hostErrors';
import { CHAIN, liveDraftOptions, liveTree } from '../../src/renderer/src/lib/liveDraft';
import { describeStop } from '../../src/renderer/src/lib/replayIndex';

const R = 'r';

function verify(step: number, verdicts: TreeNodeEvent['verdict'][]): EngineEvent {
  const nodes = verdicts.map((verdict, i) => ({
    parent: i === 0 ? -1 : i - 1,
    depth: i + 1,
    tokenId: 10 + i,
    draftProb: 0.5,
    verdict,
  }));
  return {
    type: 'verify',
    runId: R,
    step,
    draftedTokenIds: nodes.map((n) => n.tokenId),
    verdicts,
    targetTokenIds: [1],
    targetProbs: null,
    minLogitMargin: 1,
    tree: { verify: 'rows', nodes },
  };
}

describe('the strip of a token tree run', () => {
  const events = [
    verify(1, ['accepted', 'accepted', 'rejected']),
    verify(2, ['rejected', 'unchecked']),
    verify(3, ['accepted', 'rejected', 'unchecked', 'unchecked']),
  ];

  it('counts each step’s nodes and accepted path among the events shown', () => {
    expect(treeStrip(events, events.length, 3)).toEqual({
      nodes: [3, 2, 4],
      accepted: [2, 0, 1],
    });
    // the third tree not yet verified on screen: nothing of it counted
    expect(treeStrip(events, 2, 3)).toEqual({ nodes: [3, 2, 0], accepted: [2, 0, 0] });
  });

  it('is null for a chain’s run (no tree in its verify events)', () => {
    const chain = { ...verify(1, ['accepted']) } as Extract<EngineEvent, { type: 'verify' }>;
    delete chain.tree;
    expect(treeStrip([chain], 1, 1)).toBeNull();
  });

  it('says a tree’s verdicts with the nodes never judged apart from the rejected', () => {
    const stop = { at: 2, cursor: 3, step: 3 };
    expect(describeStop(events, stop, 4)).toBe('verified: 1 accepted, 1 rejected, 2 unchecked');
  });

  it('says the nodes per tree and the accepted length in words', () => {
    expect(describeTreeStrip({ nodes: [3, 2, 4], accepted: [2, 0, 1] })).toBe(
      '2 to 4 nodes over 3 trees · accepted 1.0 per tree (most 2)',
    );
    expect(describeTreeStrip({ nodes: [15, 15, 0], accepted: [3, 1, 0] })).toBe(
      '15 nodes in each of 2 trees · accepted 2.0 per tree (most 3)',
    );
    expect(describeTreeStrip({ nodes: [0], accepted: [0] })).toBe('No tree verified yet.');
  });
});

describe('labels beside scatter points', () => {
  const area: Box = { x: 0, y: 0, w: 400, h: 200 };
  const overlap = (a: Box, b: Box): boolean =>
    a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

  it('puts a lone label to the right of its point', () => {
    const [box] = placeLabels([{ px: 100, py: 100, r: 5, w: 40, h: 12 }], area);
    expect(box).toMatchObject({ x: 108, y: 94, leader: false });
  });

  it('never lays a label over another label or over any point, and stays in the plot', () => {
    // a crowd: points close together, as chains K=1..4 and trees land on a small sweep
    const points = Array.from({ length: 8 }, (_, i) => ({
      px: 180 + (i % 4) * 14,
      py: 90 + Math.floor(i / 4) * 12,
      r: 6,
      w: 60,
      h: 13,
    }));
    const placed = placeLabels(points, area);
    const boxes = placed.filter((b): b is NonNullable<typeof b> => b !== null);
    expect(boxes.length).toBeGreaterThanOrEqual(6);
    for (let i = 0; i < boxes.length; i++) {
      const b = boxes[i]!;
      expect(b.x >= 0 && b.y >= 0 && b.x + b.w <= 400 && b.y + b.h <= 200).toBe(true);
      for (let j = i + 1; j < boxes.length; j++) expect(overlap(b, boxes[j]!)).toBe(false);
      for (const p of points)
        expect(overlap(b, { x: p.px - p.r, y: p.py - p.r, w: 2 * p.r, h: 2 * p.r })).toBe(false);
    }
  });

  it('keeps clear of an unlabelled mark around a point (the best’s ring)', () => {
    const point = { px: 100, py: 100, r: 6, w: 30, h: 13 };
    const ring = { x: 87, y: 87, w: 26, h: 26 };
    const [box] = placeLabels([point], area, [ring]);
    expect(overlap(box!, ring)).toBe(false);
    // without the ring it sits right beside the point, inside where the ring is drawn
    expect(overlap(placeLabels([point], area)[0]!, ring)).toBe(true);
  });

  it('moves a label inside the plot at its right edge', () => {
    const [box] = placeLabels([{ px: 395, py: 100, r: 5, w: 40, h: 12 }], area);
    expect(box!.x + box!.w).toBeLessThanOrEqual(395 - 5);
  });
});

describe('the chat template around the typed prompt', () => {
  const rendered =
    '<|start_header_id|>user<|end_header_id|>\n\nThe cat sat<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n';

  it('splits the rendering into the template before and after the typed text', () => {
    expect(templateParts(rendered, 'The cat sat')).toEqual({
      before: '<|start_header_id|>user<|end_header_id|>\n\n',
      after: '<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
      found: true,
    });
  });

  it('shows the whole rendering when the typed text is not in it as written', () => {
    expect(templateParts('<s>[INST] x [/INST]', 'y')).toEqual({
      before: '<s>[INST] x [/INST]',
      after: '',
      found: false,
    });
  });

  it('is carried on the stream’s prompt only when the run-start says what the models read', () => {
    const start = {
      type: 'run-start' as const,
      runId: R,
      mode: 'baseline' as const,
      k: null,
      maxNewTokens: 4,
      models: { target: 't', draft: null },
      promptTokenIds: [1, 2, 3],
      promptText: 'The cat sat',
    };
    const plain = new StreamBuilder();
    plain.apply(start);
    expect(plain.tokens[0]!.template).toBeUndefined();
    const chat = new StreamBuilder();
    chat.apply({ ...start, renderedPrompt: rendered });
    expect(chat.tokens[0]!.text).toBe('The cat sat');
    expect(chat.tokens[0]!.template?.found).toBe(true);
  });
});

describe('the engine’s advice in the app’s words', () => {
  // src/core/hub/hub.ts's wording for a repo without the chosen dtype (the CLI keeps it)
  const hub =
    'someone/tiny-llama has no q4 ONNX decoder (looked for onnx/model_q4.onnx, model_q4.onnx). It has fp32, fp16: pass --dtype fp32 (or another of those).';

  it('names the Weights list and the dtypes the repo has, not the CLI flag', () => {
    const said = inAppWords('HUB_FILE_MISSING', hub);
    expect(said).not.toContain('--dtype');
    expect(said).toBe(
      "someone/tiny-llama has no q4 ONNX decoder (looked for onnx/model_q4.onnx, model_q4.onnx). It has fp32, fp16: choose fp32 (or another of those) in this model's Weights list (its dtype), under its repo.",
    );
    expect(inAppWords('HUB_FILE_MISSING', hub.replace('fp32, fp16', 'fp32'))).toContain(
      "It has fp32: choose fp32 in this model's Weights list",
    );
  });

  it('leaves other errors as the engine wrote them', () => {
    expect(inAppWords('PROMPT_EMPTY', 'Type a prompt.')).toBe('Type a prompt.');
  });
});

describe('the step-by-step run’s draft', () => {
  const shapes = [
    [3, 2, 1],
    [2, 2],
  ];
  const budgets = [16];

  it('offers the chain and every tree of the set-up, labelled as the runs are', () => {
    expect(liveDraftOptions(shapes, budgets).map((o) => o.label)).toEqual([
      'a chain of K',
      'tree 3,2,1',
      'tree 2,2',
      'tree budget 16',
    ]);
  });

  it('sends a tree with its depth as K, and nothing for the chain', () => {
    expect(liveTree('shape:3,2,1', shapes, budgets, 'rows')).toEqual({
      k: 3,
      tree: { shape: [3, 2, 1], verify: 'rows' },
    });
    expect(liveTree('budget:16', shapes, budgets, 'auto')).toEqual({
      k: 8,
      tree: { budget: 16, verify: 'auto' },
    });
    expect(liveTree(CHAIN, shapes, budgets, 'auto')).toBeNull();
    // a tree taken out of the set-up is no longer sent
    expect(liveTree('shape:4,1', shapes, budgets, 'auto')).toBeNull();
  });
});
