/**
 * Chart exports, both from the same export option (the chart's own, at the visible x range): PNG at twice the
 * screen resolution and true vector SVG, each rendered off-screen (ECharts' canvas renderer on a detached element,
 * its SVG renderer in server-side-rendering mode) — so the exported figure has the chart's title and no band left
 * where the zoom slider was, and the zoom controls and tooltips are left out.
 */
import { init } from './setup';
import { chartTheme } from './theme';
import { ZOOM_BAND } from './zoom';

type Option = Record<string, unknown>;

/** Room the title takes above the legend and the plot. */
const TITLE_BAND = 28;

/** Applies f to a component given as one object or (as getOption() returns it) an array of them. */
function each(component: unknown, f: (c: Option) => Option): unknown {
  if (Array.isArray(component)) return component.map((c) => f(c as Option));
  return component && typeof component === 'object' ? f(component as Option) : component;
}

const hasTitle = (option: Option): boolean => {
  const t = option['title'];
  const list = (Array.isArray(t) ? t : t ? [t] : []) as Option[];
  return list.some((x) => typeof x['text'] === 'string' && x['text'] !== '');
};

/**
 * The option to export: the chart's own at the visible x range, without zoom controls, their band below the plot
 * or tooltips, and with `title` above it (unless the chart has one).
 */
export function exportOption(option: Option, visible?: { min: number; max: number } | null, title?: string, dark = false): Option {
  const zoomed = Array.isArray(option['dataZoom']) ? (option['dataZoom'] as unknown[]).length > 0 : Boolean(option['dataZoom']);
  const addTitle = Boolean(title) && !hasTitle(option);
  const out: Option = { ...option, animation: false, dataZoom: [], tooltip: { show: false } };
  // Every chart's zoom covers all its x axes.
  if (visible && option['xAxis']) out['xAxis'] = each(option['xAxis'], (a) => ({ ...a, min: visible.min, max: visible.max }));
  out['grid'] = each(option['grid'], (g) => {
    const next: Option = { ...g };
    if (zoomed && typeof g['bottom'] === 'number') next['bottom'] = Math.max(40, g['bottom'] - ZOOM_BAND);
    if (addTitle && typeof g['top'] === 'number') next['top'] = g['top'] + TITLE_BAND;
    return next;
  });
  if (addTitle) {
    out['legend'] = each(option['legend'], (l) => (typeof l['top'] === 'number' ? { ...l, top: l['top'] + TITLE_BAND } : l));
    out['title'] = { text: title, left: 'center', top: 4, textStyle: { fontSize: 14, fontWeight: 600, color: chartTheme(dark).text } };
  }
  return out;
}

export function renderSvg(option: Option, width: number, height: number, dark = false): string {
  const chart = init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ ...option, backgroundColor: chartTheme(dark).background });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/** A PNG (data URL) of the export option at twice the given size, drawn on a detached canvas. */
export function renderPng(option: Option, width: number, height: number, dark = false): string {
  const chart = init(document.createElement('div'), null, { renderer: 'canvas', width, height, devicePixelRatio: 2 });
  try {
    chart.setOption({ ...option, backgroundColor: chartTheme(dark).background });
    return chart.getDataURL({ type: 'png', pixelRatio: 2, backgroundColor: chartTheme(dark).background });
  } finally {
    chart.dispose();
  }
}

/** The x range the first dataZoom shows (value units), when the chart has one. */
export function visibleRange(chart: { getOption(): unknown }): { min: number; max: number } | null {
  const opt = chart.getOption() as { dataZoom?: { startValue?: number; endValue?: number }[] };
  const z = opt.dataZoom?.[0];
  if (!z || typeof z.startValue !== 'number' || typeof z.endValue !== 'number') return null;
  return { min: z.startValue, max: z.endValue };
}
