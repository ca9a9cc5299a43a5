/**
 * Chart exports: PNG at twice the screen resolution from the live chart, and true vector SVG from an off-screen
 * chart rendered with ECharts' SVG renderer (server-side-rendering mode: no DOM), showing what is visible — the
 * current zoom becomes the axis range, the zoom controls are left out.
 */
import type { EChartsType } from 'echarts/core';
import { init } from './setup';

type Option = Record<string, unknown>;

/** The option to export: the chart's own, at the visible x range, without zoom controls or tooltips. */
export function exportOption(option: Option, visible?: { min: number; max: number } | null): Option {
  const out: Option = { ...option, animation: false, dataZoom: [], tooltip: { show: false } };
  if (visible && option['xAxis'] && !Array.isArray(option['xAxis'])) out['xAxis'] = { ...(option['xAxis'] as Option), min: visible.min, max: visible.max };
  if (option['grid'] && !Array.isArray(option['grid'])) out['grid'] = { ...(option['grid'] as Option), bottom: 44 };
  return out;
}

export function renderSvg(option: Option, width: number, height: number, dark = false): string {
  const chart = init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ ...option, backgroundColor: dark ? '#16181d' : '#ffffff' });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

export function pngDataUrl(chart: EChartsType, dark = false): string {
  return chart.getDataURL({ type: 'png', pixelRatio: 2, backgroundColor: dark ? '#16181d' : '#ffffff', excludeComponents: ['dataZoom', 'toolbox'] });
}

/** The x range the first dataZoom shows (value units), when the chart has one. */
export function visibleRange(chart: EChartsType): { min: number; max: number } | null {
  const opt = chart.getOption() as { dataZoom?: { startValue?: number; endValue?: number }[] };
  const z = opt.dataZoom?.[0];
  if (!z || typeof z.startValue !== 'number' || typeof z.endValue !== 'number') return null;
  return { min: z.startValue, max: z.endValue };
}
