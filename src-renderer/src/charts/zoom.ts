/**
 * Zooming along x, the same on every zoomable chart: the visible x range filters the data, so the y axis refits to
 * what is visible; a zoomed axis's end ticks sit at the window's edges (ECharts does not round a zoomed extent), so
 * their labels are shown only when they are round numbers — the inner ticks carry the scale.
 */
import type { ChartTheme } from './theme';

type Option = Record<string, unknown>;

/** Height of the band below a chart that the zoom slider takes (left out of exports). */
export const ZOOM_BAND = 36;

/** The inside (wheel/drag) and slider zooms over the given x axes, the slider in the theme's colours. */
export function xZoom(xAxisIndex: number | number[], t: ChartTheme): Option[] {
  return [
    { type: 'inside', xAxisIndex, filterMode: 'filter' },
    {
      type: 'slider',
      xAxisIndex,
      filterMode: 'filter',
      height: 18,
      bottom: 8,
      labelFormatter: (v: number) => roundLabel(v),
      textStyle: { color: t.text },
      borderColor: t.faint,
      backgroundColor: 'transparent',
      fillerColor: t.zoomFiller,
      dataBackground: { lineStyle: { color: t.axisLine }, areaStyle: { color: t.faint } },
    },
  ];
}

/** Significant digits of a number as written (12500 → 3, 0.1418 → 4, 0 → 0). */
export function significantDigits(v: number): number {
  if (!Number.isFinite(v) || v === 0) return 0;
  const digits = Math.abs(v).toPrecision(12).replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return digits.length;
}

/** At most three significant digits: how a window edge is written on the slider. */
export function roundLabel(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(3))) : '';
}

/**
 * An axis-label formatter that leaves a tick unlabelled when its value is not round (more than three significant
 * digits — only a zoom window's edge is: ECharts' own ticks are multiples of 1, 2, 2.5 or 5 × 10ᵏ).
 */
export function roundTicksOnly(format: (v: number) => string = String): (v: number) => string {
  return (v: number) => (significantDigits(v) > 3 ? '' : format(v));
}
