/**
 * chart.js with only what the studio draws: line charts on linear axes, filled min-max bands,
 * bar charts (stacked too) on a category axis, legend and tooltips. Nothing is fetched: the
 * canvas uses the system font.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  PointElement,
  Tooltip,
  type ChartOptions,
} from 'chart.js';
import { pointLabelsPlugin } from './pointLabelsPlugin';

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  LineController,
  LineElement,
  PointElement,
  LinearScale,
  Filler,
  Legend,
  Tooltip,
  pointLabelsPlugin,
);
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", sans-serif';

export { Chart };

export interface AxisTitles {
  /** the x axis (default: K) */
  x?: string;
  /** the x axis' lowest value (default: chosen by chart.js) */
  xMin?: number;
  /** the x axis' highest value (default: chosen by chart.js) */
  xMax?: number;
  y: string;
  /** a right-hand axis for a second quantity */
  y1?: string;
  /** left axis as a percentage of 0..1 */
  yPercent?: boolean;
}

export function lineOptions(titles: AxisTitles): ChartOptions<'line'> {
  const options: ChartOptions<'line'> = {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    // points on the axis' last K are drawn whole, not cut at the plot's edge
    layout: { padding: { right: 6 } },
    datasets: { line: { clip: 6 } },
    interaction: { mode: 'nearest', intersect: false, axis: 'x' },
    scales: {
      x: {
        type: 'linear',
        title: { display: true, text: titles.x ?? 'K (draft length)' },
        ...(titles.xMin !== undefined ? { min: titles.xMin } : {}),
        ...(titles.xMax !== undefined ? { max: titles.xMax } : {}),
        ticks: { precision: 0 },
      },
      y: {
        type: 'linear',
        position: 'left',
        beginAtZero: true,
        title: { display: true, text: titles.y },
        ...(titles.yPercent
          ? {
              max: 1,
              ticks: { callback: (value) => `${Math.round(Number(value) * 100)}%` },
            }
          : {}),
      },
      ...(titles.y1
        ? {
            y1: {
              type: 'linear' as const,
              position: 'right' as const,
              beginAtZero: true,
              grid: { drawOnChartArea: false },
              title: { display: true, text: titles.y1 },
            },
          }
        : {}),
    },
    plugins: {
      legend: {
        position: 'bottom',
        // Unnamed (a band's lower edge) and empty datasets stay out of the legend.
        labels: {
          usePointStyle: true,
          boxHeight: 7,
          pointStyleWidth: 18,
          filter: (item, data) =>
            item.text !== '' && (data.datasets[item.datasetIndex ?? -1]?.data.length ?? 0) > 0,
        },
      },
      tooltip: {
        filter: (item) => item.dataset.label !== '',
      },
    },
  };
  return options;
}

export interface BarAxes {
  /** the category axis' title (K, accepted count, configuration) */
  category: string;
  /** the value axis' title */
  value: string;
  /** bars along the y axis, one row per category (long labels stay readable) */
  horizontal?: boolean;
  /** datasets stacked into one bar per category */
  stacked?: boolean;
  /** the value axis as a percentage of 0..1 */
  percent?: boolean;
  /** the value axis counts (whole-number ticks) */
  counts?: boolean;
  /** a legend under the chart (for several datasets) */
  legend?: boolean;
  /** how a value reads in the tooltip */
  tooltipValue?: (value: number) => string;
}

export function barOptions(axes: BarAxes): ChartOptions<'bar'> {
  const value = {
    type: 'linear' as const,
    beginAtZero: true,
    stacked: axes.stacked ?? false,
    title: { display: true, text: axes.value },
    ...(axes.percent
      ? { max: 1, ticks: { callback: (v: number | string) => `${Math.round(Number(v) * 100)}%` } }
      : axes.counts
        ? { ticks: { precision: 0 } }
        : {}),
  };
  const category = {
    type: 'category' as const,
    stacked: axes.stacked ?? false,
    title: { display: true, text: axes.category },
    grid: { display: false },
  };
  const format = axes.tooltipValue;
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    indexAxis: axes.horizontal ? 'y' : 'x',
    scales: axes.horizontal ? { x: value, y: category } : { x: category, y: value },
    plugins: {
      legend: {
        display: axes.legend ?? false,
        position: 'bottom',
        labels: { boxWidth: 12, boxHeight: 12 },
      },
      tooltip: format
        ? {
            callbacks: {
              label: (item) =>
                `${item.dataset.label ? `${item.dataset.label}: ` : ''}${format(Number(item.raw))}`,
            },
          }
        : {},
    },
  };
}
