/**
 * `specdec sweep --report FILE`: the analysis as Markdown, its charts as SVG files beside it, each
 * written atomically (a failed write leaves the previous file whole).
 */
import { writeFileAtomic } from '../core/atomicWrite';
import { basename, dirname, join } from 'node:path';
import { analysisMarkdown, analyzeSweep, type AnalysisInput } from '../results/analysis';
import { analysisChartsSvg } from '../results/analysisCharts';

/** report.md -> report-time.svg etc., in the report's folder */
export function chartPath(reportFile: string, chart: string): string {
  const stem = basename(reportFile).replace(/\.(md|markdown)$/i, '');
  return join(dirname(reportFile), `${stem}-${chart}.svg`);
}

/** Writes the report and its charts; returns the paths written. */
export function writeAnalysisReport(reportFile: string, input: AnalysisInput): string[] {
  const analysis = analyzeSweep(input);
  const charts = analysisChartsSvg(analysis);
  const images: Record<string, string> = {};
  const written: string[] = [];
  for (const [name, svg] of Object.entries(charts)) {
    const file = chartPath(reportFile, name);
    writeFileAtomic(file, svg);
    written.push(file);
    // Linked relative to the report, so the folder can be moved as a whole.
    images[name] = encodeURI(basename(file));
  }
  writeFileAtomic(reportFile, analysisMarkdown(analysis, images));
  return [reportFile, ...written];
}
