/**
 * PNG snapshots of the drawn chart.js charts, for the Markdown report: each chart's canvas
 * (found by its test id, checked to hold a chart.js chart) copied onto a white background, so
 * the lines stay readable in dark-themed Markdown viewers, and encoded as a data URI.
 */
import { Chart } from './chartSetup';

export const REPORT_CHARTS = {
  time: 'chart-time',
  passes: 'chart-passes',
  acceptance: 'chart-acceptance',
} as const;

export type ReportChart = keyof typeof REPORT_CHARTS;

/** A PNG data URI of the chart drawn on the canvas with this test id; null when there is none. */
export function chartPng(testid: string): string | null {
  const canvas = document.querySelector(`canvas[data-testid="${testid}"]`);
  if (!(canvas instanceof HTMLCanvasElement)) return null;
  const chart = Chart.getChart(canvas);
  if (!chart || canvas.width === 0 || canvas.height === 0) return null;
  const out = document.createElement('canvas');
  out.width = canvas.width;
  out.height = canvas.height;
  const ctx = out.getContext('2d');
  if (!ctx) return chart.toBase64Image('image/png');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(chart.canvas, 0, 0);
  return out.toDataURL('image/png');
}

/** Every report chart that is drawn, as PNG data URIs. */
export function reportChartImages(): Partial<Record<ReportChart, string>> {
  const images: Partial<Record<ReportChart, string>> = {};
  for (const [name, testid] of Object.entries(REPORT_CHARTS) as Array<[ReportChart, string]>) {
    const png = chartPng(testid);
    if (png) images[name] = png;
  }
  return images;
}
