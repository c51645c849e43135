/**
 * A chart.js plugin that writes each point's `label` beside it (placed by labelPlacement.ts so
 * that labels never cover each other or a point). Off unless a chart's options turn it on:
 * `plugins.pointLabels: { display: true, skip: ['dataset label', ...] }`.
 */
import type { Chart, ChartType, Plugin } from 'chart.js';
import { placeLabels, type Box, type LabelledPoint } from './labelPlacement';

export interface PointLabelsOptions {
  display: boolean;
  /** datasets whose points are not labelled (a ring repeating another point) */
  skip: string[];
  font: string;
  color: string;
}

declare module 'chart.js' {
  // the type parameter must match chart.js' declaration; the options are the same for every type
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface PluginOptionsByType<TType extends ChartType> {
    pointLabels?: Partial<PointLabelsOptions>;
  }
}

const LINE_H = 13;

interface Labelled {
  text: string;
  color: string;
  point: LabelledPoint;
}

/** the points to label, and the marks of the skipped datasets (a ring) that labels keep clear of */
function collect(
  chart: Chart,
  options: PointLabelsOptions,
): { labelled: Labelled[]; obstacles: Box[] } {
  const { ctx } = chart;
  const out: Labelled[] = [];
  const obstacles: Box[] = [];
  chart.data.datasets.forEach((dataset, i) => {
    const meta = chart.getDatasetMeta(i);
    if (meta.hidden) return;
    const skipped = options.skip.includes(dataset.label ?? '');
    meta.data.forEach((element, j) => {
      const radius = Number((element.options as { radius?: number } | undefined)?.radius ?? 4);
      if (skipped) {
        const r = radius + 2;
        obstacles.push({ x: element.x - r, y: element.y - r, w: 2 * r, h: 2 * r });
        return;
      }
      const raw = dataset.data[j] as { label?: string } | undefined;
      const text = raw?.label;
      if (!text) return;
      out.push({
        text,
        color: typeof dataset.borderColor === 'string' ? dataset.borderColor : options.color,
        point: {
          px: element.x,
          py: element.y,
          r: radius + 1,
          w: ctx.measureText(text).width + 2,
          h: LINE_H,
        },
      });
    });
  });
  return { labelled: out, obstacles };
}

export const pointLabelsPlugin: Plugin = {
  id: 'pointLabels',
  defaults: { display: false, skip: [], font: '11px system-ui, sans-serif', color: '#374151' },
  afterDatasetsDraw(chart, _args, pluginOptions: PointLabelsOptions) {
    if (!pluginOptions.display) return;
    const { ctx, chartArea } = chart;
    ctx.save();
    ctx.font = pluginOptions.font;
    const { labelled, obstacles } = collect(chart, pluginOptions);
    const area = {
      x: chartArea.left,
      y: chartArea.top,
      w: chartArea.right - chartArea.left,
      h: chartArea.bottom - chartArea.top,
    };
    const placed = placeLabels(
      labelled.map((l) => l.point),
      area,
      obstacles,
    );
    ctx.textBaseline = 'middle';
    let drawn = 0;
    placed.forEach((box, i) => {
      const l = labelled[i]!;
      if (!box) return;
      drawn++;
      if (box.leader) {
        ctx.strokeStyle = '#9ca3af';
        ctx.lineWidth = 1;
        ctx.beginPath();
        ctx.moveTo(l.point.px, l.point.py);
        const tx = Math.max(box.x, Math.min(l.point.px, box.x + box.w));
        const ty = Math.max(box.y, Math.min(l.point.py, box.y + box.h));
        ctx.lineTo(tx, ty);
        ctx.stroke();
      }
      // a light backing keeps the text readable over grid lines
      ctx.fillStyle = 'rgba(255, 255, 255, 0.8)';
      ctx.fillRect(box.x, box.y, box.w, box.h);
      ctx.fillStyle = l.color;
      ctx.fillText(l.text, box.x + 1, box.y + box.h / 2);
    });
    // the tests read what was written: labels drawn, of those asked for
    chart.canvas.dataset.pointLabels = `${drawn}/${labelled.length}`;
    ctx.restore();
  },
};
