/**
 * The analysis as Markdown: the CLI's `--report` file and the app's exported report share it;
 * charts are linked where the caller has them.
 */
import type { Analysis, AnalysisTable, QuestionId } from './types';

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

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function markdownTable(table: AnalysisTable): string {
  const lines = [
    `| ${table.head.map(cell).join(' | ')} |`,
    `| ${table.head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...table.rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ];
  return `*${cell(table.caption)}*\n\n${lines.join('\n')}`;
}

export function analysisMarkdown(analysis: Analysis, images: AnalysisImages = {}): string {
  const out: string[] = [`# ${analysis.title}`, ''];
  for (const line of analysis.context) out.push(`- ${line}`);
  out.push('');
  for (const note of analysis.notes) out.push(`> ${note}`, '>');
  if (analysis.notes.length > 0) out.splice(out.length - 1, 1, '');
  out.push('## Results', '', markdownTable(analysis.summary), '');
  if (analysis.bestInWords) out.push(`Best: ${analysis.bestInWords}`, '');
  for (const s of analysis.sections) {
    out.push(`## ${s.number}. ${s.title}`, '', `*${s.question}*`, '', `**${s.answer}**`, '');
    for (const p of s.points) out.push(`- ${p}`);
    if (s.points.length > 0) out.push('');
    for (const t of s.tables) out.push(markdownTable(t), '');
    const image = SECTION_IMAGE[s.id];
    const src = image ? images[image.key] : undefined;
    if (image && src && analysis.series.length > 0) out.push(`![${image.alt}](${src})`, '');
  }
  return (
    out
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trimEnd() + '\n'
  );
}
