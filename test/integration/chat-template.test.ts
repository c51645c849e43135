/**
 * Chat templates (issue 33): an instruct target's prompts are rendered as a user's turn in its
 * chat template (tokenizer_config.json, through transformers.js) unless --chat-template off; a
 * draft whose template renders a prompt to other ids is refused naming where; the run rows, the
 * CSV, the JSON config and the report say which. On llama-tiny-instruct (the tiny llama target
 * with a Llama 3 style template) and its early exit (no template).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpecDecError } from '../../src/core/errors';
import { BaselineRun } from '../../src/core/decoding/baseline';
import { SpeculativeRun } from '../../src/core/decoding/speculative';
import { checkSweepConfig, type SweepConfig } from '../../src/core/experiment/sweep';
import { loadPair, releasePair, type ModelPair } from '../../src/core/model/pair';
import { loadTokenizer } from '../../src/core/model/tokenizer';
import { ROOT, copyFolder, specdec } from '../support/helpers';

const FAMILIES = join(ROOT, 'test', 'fixtures', 'families');
const INSTRUCT = join(FAMILIES, 'llama-tiny-instruct');
const TARGET = join(FAMILIES, 'llama-tiny-target');
const EARLY = join(FAMILIES, 'llama-tiny-early');
const PROMPT = 'Tell me a story';
/** what the fixture's template renders PROMPT to, written out by hand */
const RENDERED =
  '<|endoftext|><|start_header_id|>user<|end_header_id|>\n\nTell me a story<|endoftext|>' +
  '<|start_header_id|>assistant<|end_header_id|>\n\n';

const config = (prompts: string[]): SweepConfig => ({
  prompts,
  maxNewTokens: 10,
  ks: [1],
  repeats: 1,
  warmup: 0,
  noKvCache: false,
});

/** a copy of the instruct model whose tokenizer_config.json has `template` */
function withTemplate(template: string | null): string {
  const copy = copyFolder(INSTRUCT);
  const path = join(copy, 'tokenizer_config.json');
  const tokenizerConfig = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  if (template === null) delete tokenizerConfig.chat_template;
  else tokenizerConfig.chat_template = template;
  writeFileSync(path, JSON.stringify(tokenizerConfig));
  return copy;
}

describe('an instruct target with a chat template', () => {
  let pair: ModelPair;
  let plain: Awaited<ReturnType<typeof loadTokenizer>>;
  beforeAll(async () => {
    pair = await loadPair(INSTRUCT, EARLY);
    plain = await loadTokenizer(INSTRUCT);
  });
  afterAll(() => releasePair(pair));

  it('renders each prompt as a user turn by default: the ids of the template written out', () => {
    expect(pair.chatTemplate).toBe('applied');
    const ids = pair.tokenizer.encode(PROMPT);
    expect(ids).toEqual(plain.encode(RENDERED));
    // the special token is one id where the template puts it, the rest byte-level text
    expect(ids[0]).toBe(556);
    expect(ids.filter((t) => t === 556)).toHaveLength(2);
    expect(ids.length).toBeGreaterThan(plain.encode(PROMPT).length + 10);
  });

  it('runs greedy losslessly from the rendered prompt, for every K', async () => {
    const baseline = new BaselineRun(pair, { prompt: PROMPT, maxNewTokens: 30 });
    expect(baseline.promptTokenIds).toEqual(plain.encode(RENDERED));
    const base = await baseline.runToEnd();
    for (const k of [1, 2, 4]) {
      const spec = await new SpeculativeRun(pair, k, {
        prompt: PROMPT,
        maxNewTokens: 30,
      }).runToEnd();
      expect(spec.outputTokenIds).toEqual(base.outputTokenIds);
    }
    // the template is the target's whole input: its output is the plain target's from those ids
    const raw = await loadPair(TARGET, EARLY);
    try {
      const fromRendered = await new BaselineRun(raw, {
        prompt: RENDERED,
        maxNewTokens: 30,
      }).runToEnd();
      expect(fromRendered.outputTokenIds).toEqual(base.outputTokenIds);
    } finally {
      await releasePair(raw);
    }
  });

  it('run-start carries the rendered prompt as text, whole characters included', async () => {
    const typed = 'Café 日本 — naïve';
    const run = new BaselineRun(pair, { prompt: typed, maxNewTokens: 1 });
    const start = (await run.nextStep())?.find((e) => e.type === 'run-start');
    const rendered = start?.type === 'run-start' ? start.renderedPrompt : undefined;
    // byte-level tokens split these characters: decoded one token at a time they print as U+FFFD
    expect(rendered).toBe(RENDERED.replace(PROMPT, typed));
    expect(rendered).not.toContain('\uFFFD');
    await run.runToEnd();
  });

  it('--chat-template off feeds the prompt as it is; a target without a template: none', async () => {
    const off = await loadPair(INSTRUCT, EARLY, { chatTemplate: 'off' });
    const none = await loadPair(TARGET, EARLY);
    try {
      expect(off.chatTemplate).toBe('off');
      expect(off.tokenizer.encode(PROMPT)).toEqual(plain.encode(PROMPT));
      expect(none.chatTemplate).toBe('none');
      expect(none.tokenizer.encode(PROMPT)).toEqual(plain.encode(PROMPT));
    } finally {
      await releasePair(off);
      await releasePair(none);
    }
  });
});

describe('a chat template in chat_template.jinja (newer exports)', () => {
  it('is read when tokenizer_config.json has none', async () => {
    const beside = withTemplate(null);
    writeFileSync(join(beside, 'chat_template.jinja'), readTemplate());
    const pair = await loadPair(beside, EARLY);
    const plain = await loadTokenizer(beside);
    try {
      expect(pair.chatTemplate).toBe('applied');
      expect(pair.tokenizer.encode(PROMPT)).toEqual(plain.encode(RENDERED));
    } finally {
      await releasePair(pair);
    }
  });
});

describe("the draft's chat template", () => {
  it('a draft with the same template is accepted', async () => {
    const pair = await loadPair(INSTRUCT, withTemplate(readTemplate()), {
      check: (fit) => checkSweepConfig(config([PROMPT]), fit),
    });
    expect(pair.chatTemplate).toBe('applied');
    await releasePair(pair);
  });

  it('a draft whose template renders the prompt to other ids is refused at load, naming where', async () => {
    // ChatML (Qwen's layout) beside the target's Llama 3 layout
    const chatMl =
      "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
    const err = await loadPair(INSTRUCT, withTemplate(chatMl), {
      check: (fit) => checkSweepConfig(config([PROMPT]), fit),
    }).then(
      async (p) => {
        await releasePair(p);
        return null;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SpecDecError);
    expect((err as SpecDecError).code).toBe('PAIR_MISMATCH');
    expect((err as SpecDecError).message).toMatch(
      /chat templates of the target .* and the draft .* render the prompt differently: at token 1 of \d+, the target's has id 556 "<\|endoftext\|>" and the draft's id \d+ ".*"\. Give a draft whose tokenizer_config\.json has the target's chat_template, or turn the chat template off/,
    );
    // with the template off there is nothing to compare
    const off = await loadPair(INSTRUCT, withTemplate(chatMl), {
      chatTemplate: 'off',
      check: (fit) => checkSweepConfig(config([PROMPT]), fit),
    });
    expect(off.chatTemplate).toBe('off');
    await releasePair(off);
  });

  it('a template that cannot render the prompt is refused saying what to do', async () => {
    const broken = withTemplate("{{ raise_exception('system messages only') }}");
    const err = await loadPair(broken, EARLY, {
      check: (fit) => checkSweepConfig(config([PROMPT]), fit),
    }).then(
      async (p) => {
        await releasePair(p);
        return null;
      },
      (e: unknown) => e,
    );
    expect((err as SpecDecError).code).toBe('TOKENIZER_INVALID');
    expect((err as SpecDecError).message).toMatch(
      /The chat template in .*tokenizer_config\.json could not render the prompt: .*system messages only.*turn the chat template off/,
    );
    expect((err as SpecDecError).settings).toEqual(['chatTemplate']);
  });
});

function readTemplate(): string {
  const tokenizerConfig = JSON.parse(
    readFileSync(join(INSTRUCT, 'tokenizer_config.json'), 'utf8'),
  ) as { chat_template: string };
  return tokenizerConfig.chat_template;
}

describe('the CLI says which', () => {
  const out = mkdtempSync(join(tmpdir(), 'specdec-chat-'));
  const sweep = (extra: string[]): Promise<Awaited<ReturnType<typeof specdec>>> =>
    specdec([
      'sweep',
      '--target',
      INSTRUCT,
      '--draft',
      EARLY,
      '--prompt',
      PROMPT,
      '--max-new-tokens',
      '12',
      '--k',
      '2',
      '--repeats',
      '1',
      '--warmup',
      '0',
      ...extra,
    ]);

  it('auto: the rows, the CSV, the JSON config and the report record the template and families', async () => {
    const csv = join(out, 'runs.csv');
    const report = join(out, 'report.md');
    const json = await sweep(['--json', '--csv', csv, '--report', report]);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as {
      config: { family: unknown; chatTemplate: string; logitWidths: unknown };
      runs: Array<{ chatTemplate: string; targetFamily: string; draftFamily: string }>;
    };
    expect(doc.config.family).toEqual({ target: 'llama', draft: 'llama' });
    expect(doc.config.chatTemplate).toBe('applied');
    expect(doc.config.logitWidths).toBeNull();
    for (const r of doc.runs)
      expect([r.chatTemplate, r.targetFamily, r.draftFamily]).toEqual([
        'applied',
        'llama',
        'llama',
      ]);
    const rows = parse(readFileSync(csv, 'utf8'), { columns: true }) as Record<string, string>[];
    for (const r of rows)
      expect([r.targetFamily, r.draftFamily, r.chatTemplate]).toEqual([
        'llama',
        'llama',
        'applied',
      ]);
    expect(readFileSync(report, 'utf8')).toContain(
      "Families: target llama, draft llama; each prompt rendered as a user's turn in the target's chat template.",
    );
  });

  it('off: said on the screen and in the CSV', async () => {
    const csv = join(out, 'off.csv');
    const res = await sweep(['--chat-template', 'off', '--csv', csv]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(
      'Families: target llama, draft llama; prompts as written (chat template off).',
    );
    const rows = parse(readFileSync(csv, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows.every((r) => r.chatTemplate === 'off')).toBe(true);
  });

  it('an unknown mode is refused with the choices', async () => {
    const res = await sweep(['--chat-template', 'maybe']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(
      /--chat-template <mode>' argument 'maybe' is invalid. Allowed choices are auto, off/,
    );
  });
});
