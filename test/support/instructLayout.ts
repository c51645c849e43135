/**
 * A Hub-layout instruct model for the tests of chat templates from the Hub: the tiny Llama 3.2
 * layout (test/fixtures/hub-layouts/llama3.2-1b-tiny) copied with its chat template in
 * chat_template.jinja, as newer exports ship it (the tiny llama-tiny-instruct's Llama 3 style one).
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './helpers';

export const LLAMA_LAYOUT = join(ROOT, 'test', 'fixtures', 'hub-layouts', 'llama3.2-1b-tiny');
const INSTRUCT_CONFIG = join(
  ROOT,
  'test',
  'fixtures',
  'families',
  'llama-tiny-instruct',
  'tokenizer_config.json',
);

/** the template chat_template.jinja holds */
export const INSTRUCT_TEMPLATE = (
  JSON.parse(readFileSync(INSTRUCT_CONFIG, 'utf8')) as { chat_template: string }
).chat_template;

/** a fresh copy of the tiny Llama 3.2 layout with chat_template.jinja beside its tokenizer */
export function instructHubLayout(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'specdec-instruct-layout-')), 'model');
  cpSync(LLAMA_LAYOUT, dir, { recursive: true });
  writeFileSync(join(dir, 'chat_template.jinja'), INSTRUCT_TEMPLATE);
  return dir;
}
