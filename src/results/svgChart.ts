/**
 * A small SVG line chart for reports: numeric x (K), one left and an optional right y axis,
 * solid or dashed series with point markers, a legend. Pure string building, no dependency, so
 * the CLI can write charts next to a Markdown report.
 */

export interface SvgPoint {
  x: number;
  y: number;
}

export interface SvgSeries {
  label: string;
  points: readonly SvgPoint[];
  color: string;
  dashed?: boolean;
  /** default left */
  axis?: 'left' | 'right';
  /** default true */
  markers?: boolean;
}

export interface SvgChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  /** the right axis' title; needed when a series uses it */
  y2Label?: string;
  series: readonly SvgSeries[];
  /** x values to label (default: every x of the series) */
  xTicks?: readonly number[];
  width?: number;
  height?: number;
}

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** A tick step of 1, 2 or 5 times a power of ten giving about `count` ticks. */
export function niceStep(span: number, count = 5): number {
  if (!(span > 0)) return 1;
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}

interface Axis {
  min: number;
  max: number;
  ticks: number[];
}

/** From zero (or the lowest value when negative) to a tick at or above the highest value. */
function valueAxis(values: readonly number[]): Axis {
  const hi = Math.max(0, ...values);
  const lo = Math.min(0, ...values);
  const step = niceStep(hi - lo || 1);
  const min = Math.floor(lo / step) * step;
  const max = Math.max(min + step, Math.ceil(hi / step) * step);
  const ticks: number[] = [];
  for (let v = min; v <= max + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return { min, max, ticks };
}

function tickText(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(3)));
}

const r1 = (v: number): string => (Math.round(v * 10) / 10).toString();

export function lineChartSvg(spec: SvgChartSpec): string {
  const width = spec.width ?? 640;
  const height = spec.height ?? 360;
  const series = spec.series.filter((s) => s.points.length > 0);
  const left = series.filter((s) => (s.axis ?? 'left') === 'left');
  const right = series.filter((s) => s.axis === 'right');
  const hasRight = right.length > 0;

  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const xTicks = [...new Set(spec.xTicks ?? xs)].sort((a, b) => a - b);
  let xMin = Math.min(...xs, ...xTicks);
  let xMax = Math.max(...xs, ...xTicks);
  if (!Number.isFinite(xMin)) [xMin, xMax] = [0, 1];
  if (xMin === xMax) [xMin, xMax] = [xMin - 0.5, xMax + 0.5];
  const yAxis = valueAxis(left.flatMap((s) => s.points.map((p) => p.y)));
  const y2Axis = valueAxis(right.flatMap((s) => s.points.map((p) => p.y)));

  // Legend entries flow left to right and wrap (text width estimated from the font size).
  const legend = series.map((s) => ({
    s,
    text: s.label + (hasRight ? ` (${s.axis === 'right' ? 'right' : 'left'})` : ''),
  }));
  const placed: Array<{ x: number; row: number }> = [];
  let lx = 20;
  let row = 0;
  for (const { text } of legend) {
    const w = 28 + text.length * 6.2 + 18;
    if (lx > 20 && lx + w > width - 10) {
      lx = 20;
      row++;
    }
    placed.push({ x: lx, row });
    lx += w;
  }
  // Plot area: room for the title and legend above, axis titles beside and below.
  const top = 34 + (series.length ? row + 1 : 0) * 18;
  const plot = {
    x0: 64,
    x1: width - (hasRight ? 64 : 20),
    y0: height - 48,
    y1: top,
  };
  const px = (x: number): number => plot.x0 + ((x - xMin) / (xMax - xMin)) * (plot.x1 - plot.x0);
  const py = (y: number, axis: Axis): number =>
    plot.y0 - ((y - axis.min) / (axis.max - axis.min)) * (plot.y0 - plot.y1);

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(spec.title)}">`,
    `<title>${escapeXml(spec.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="600" fill="#111827" ${FONT}>${escapeXml(spec.title)}</text>`,
  ];

  // Grid and left ticks.
  for (const t of yAxis.ticks) {
    const y = r1(py(t, yAxis));
    out.push(
      `<line x1="${plot.x0}" y1="${y}" x2="${plot.x1}" y2="${y}" stroke="#e5e7eb" stroke-width="1"/>`,
      `<text x="${plot.x0 - 6}" y="${y}" dy="4" text-anchor="end" font-size="11" fill="#374151" ${FONT}>${tickText(t)}</text>`,
    );
  }
  if (hasRight) {
    for (const t of y2Axis.ticks) {
      const y = r1(py(t, y2Axis));
      out.push(
        `<text x="${plot.x1 + 6}" y="${y}" dy="4" text-anchor="start" font-size="11" fill="#374151" ${FONT}>${tickText(t)}</text>`,
      );
    }
  }
  for (const t of xTicks) {
    const x = r1(px(t));
    out.push(
      `<line x1="${x}" y1="${plot.y0}" x2="${x}" y2="${plot.y0 + 4}" stroke="#6b7280"/>`,
      `<text x="${x}" y="${plot.y0 + 17}" text-anchor="middle" font-size="11" fill="#374151" ${FONT}>${tickText(t)}</text>`,
    );
  }
  // Axes and their titles.
  out.push(
    `<path d="M${plot.x0} ${plot.y1}V${plot.y0}H${plot.x1}${hasRight ? `V${plot.y1}` : ''}" fill="none" stroke="#6b7280" stroke-width="1"/>`,
    `<text x="${(plot.x0 + plot.x1) / 2}" y="${height - 10}" text-anchor="middle" font-size="12" fill="#111827" ${FONT}>${escapeXml(spec.xLabel)}</text>`,
    `<text transform="translate(16 ${(plot.y0 + plot.y1) / 2}) rotate(-90)" text-anchor="middle" font-size="12" fill="#111827" ${FONT}>${escapeXml(spec.yLabel)}</text>`,
  );
  if (hasRight)
    out.push(
      `<text transform="translate(${width - 14} ${(plot.y0 + plot.y1) / 2}) rotate(90)" text-anchor="middle" font-size="12" fill="#111827" ${FONT}>${escapeXml(spec.y2Label ?? '')}</text>`,
    );

  // Series.
  for (const s of series) {
    const axis = s.axis === 'right' ? y2Axis : yAxis;
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    const coords = pts.map((p) => `${r1(px(p.x))},${r1(py(p.y, axis))}`).join(' ');
    out.push(
      `<polyline points="${coords}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    if (s.markers ?? true)
      for (const p of pts)
        out.push(`<circle cx="${r1(px(p.x))}" cy="${r1(py(p.y, axis))}" r="3" fill="${s.color}"/>`);
  }

  legend.forEach(({ s, text }, i) => {
    const { x, row } = placed[i]!;
    const y = 34 + row * 18;
    out.push(
      `<line x1="${x}" y1="${y}" x2="${x + 22}" y2="${y}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${x + 28}" y="${y}" dy="4" font-size="11" fill="#111827" ${FONT}>${escapeXml(text)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
