/**
 * The analysis as Markdown: the CLI's `--report` file and the app's exported report share it;
 * charts are linked where the caller has them.
 */
import type { Analysis, AnalysisExtra, AnalysisTable, QuestionId } from './types';

/** Chart images for the report: relative paths (CLI) or data URIs (app). */
export interface AnalysisImages {
  time?: string;
  passes?: string;
  acceptance?: string;
}

const SECTION_IMAGE: Record<QuestionId, { key: keyof AnalysisImages; alt: string } | null> = {
  passes: { key: 'passes', alt: 'Target passes vs K' },
  time: { key: 'time', alt: 'Time and speedup vs K' },
  accepted: { key: 'acceptance', alt: 'Tokens per target pass vs K, measured and expected' },
  tradeoffs: null,
  baseline: null,
};

/**
 * Text as Markdown shows it literally: prompts, output samples and model names reach every line
 * of the report, so nothing in them may become markup. Line breaks fold to spaces (a newline must
 * not start a heading, a list or a quote); `&` and `<` become entities (no HTML: no `<script>`,
 * no `<img onerror>`, no `<javascript:...>` autolink); Markdown's punctuation is backslash-escaped
 * (no `[text](javascript:...)` link, no image, no emphasis, no code span, no table cell break).
 */
export function markdownText(text: string): string {
  return text
    .replace(/\r\n?|[\n\v\f\u0085\u2028\u2029]/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/[\\`*_[\]~|]/g, '\\$&');
}

const cell = markdownText;

export function markdownTable(table: AnalysisTable): string {
  const lines = [
    `| ${table.head.map(cell).join(' | ')} |`,
    `| ${table.head.map((_, i) => (i === 0 || table.textColumns?.includes(i) ? '---' : '---:')).join(' | ')} |`,
    ...table.rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ];
  return `*${cell(table.caption)}*\n\n${lines.join('\n')}`;
}

/** a part beside the five questions: its answers in bold, one per line, then its points and tables */
function extraMarkdown(extra: AnalysisExtra): string[] {
  const t = markdownText;
  const out = [`## ${t(extra.title)}`, '', `*${t(extra.question)}*`, ''];
  for (const a of extra.answers) out.push(`- **${t(a)}**`);
  out.push('');
  for (const p of extra.points) out.push(`- ${t(p)}`);
  if (extra.points.length > 0) out.push('');
  for (const table of extra.tables) out.push(markdownTable(table), '');
  return out;
}

export function analysisMarkdown(analysis: Analysis, images: AnalysisImages = {}): string {
  // every string of the analysis may carry a prompt, an output or a model name: all go through
  // markdownText, the markup around them is this function's own
  const t = markdownText;
  const out: string[] = [`# ${t(analysis.title)}`, ''];
  for (const line of analysis.context) out.push(`- ${t(line)}`);
  out.push('');
  for (const note of analysis.notes) out.push(`> ${t(note)}`, '>');
  if (analysis.notes.length > 0) out.splice(out.length - 1, 1, '');
  out.push('## Results', '', markdownTable(analysis.summary), '');
  if (analysis.bestInWords) out.push(`Best: ${t(analysis.bestInWords)}`, '');
  // a controlled-acceptance sweep's own question comes first: which K at which alpha
  if (analysis.kAtAlpha) out.push(...extraMarkdown(analysis.kAtAlpha));
  for (const s of analysis.sections) {
    out.push(
      `## ${s.number}. ${t(s.title)}`,
      '',
      `*${t(s.question)}*`,
      '',
      `**${t(s.answer)}**`,
      '',
    );
    for (const p of s.points) out.push(`- ${t(p)}`);
    if (s.points.length > 0) out.push('');
    for (const t of s.tables) out.push(markdownTable(t), '');
    const image = SECTION_IMAGE[s.id];
    const src = image ? images[image.key] : undefined;
    if (image && src && analysis.series.length > 0) out.push(`![${image.alt}](${src})`, '');
  }
  if (analysis.trees) out.push(...extraMarkdown(analysis.trees));
  if (analysis.timeSplit) out.push(...extraMarkdown(analysis.timeSplit));
  return (
    out
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trimEnd() + '\n'
  );
}
