/**
 * The charts' colours in the light and the dark theme, in one place: every chart builder takes its text, axis and
 * grid colours from here (ECharts' own defaults, e.g. its #54555a axis labels, are unreadable on the dark panel).
 * `background` is the panel the charts sit on (styles.css --panel) and the background of exported images; the
 * text colours meet WCAG AA (contrast ≥ 4.5:1) against it — test/renderer/chart-theme.test.ts checks both themes.
 */
import { parseHex } from './palette';

type Option = Record<string, unknown>;

export interface ChartTheme {
  background: string;
  /** Titles, legends, axis names, labels on the plot. */
  text: string;
  /** Axis tick labels (a little quieter than text, still AA). */
  axisLabel: string;
  axisLine: string;
  /** Grid (split) lines. */
  faint: string;
  /** Behind labels drawn over lines. */
  labelBackground: string;
  /** The zoom slider's selected window. */
  zoomFiller: string;
}

export const LIGHT: ChartTheme = {
  background: '#ffffff',
  text: '#2b2f36',
  axisLabel: '#4f5662',
  axisLine: '#6b7280',
  faint: '#e3e6eb',
  labelBackground: 'rgba(255,255,255,0.85)',
  zoomFiller: 'rgba(53,99,184,0.15)',
};

export const DARK: ChartTheme = {
  background: '#1a1d23',
  text: '#d0d4dc',
  axisLabel: '#b4bbc6',
  axisLine: '#8a919c',
  faint: '#3a3f4a',
  labelBackground: 'rgba(26,29,35,0.85)',
  zoomFiller: 'rgba(122,162,240,0.2)',
};

export function chartTheme(dark: boolean | undefined): ChartTheme {
  return dark ? DARK : LIGHT;
}

/** An axis with the theme's colours for its line, tick labels and name (the axis's own axisLabel settings kept). */
export function themedAxis(t: ChartTheme, axis: Option): Option {
  const label = (axis['axisLabel'] as Option | undefined) ?? {};
  const line = (axis['axisLine'] as Option | undefined) ?? {};
  const name = (axis['nameTextStyle'] as Option | undefined) ?? {};
  return {
    ...axis,
    axisLine: { ...line, lineStyle: { color: t.axisLine, ...((line['lineStyle'] as Option | undefined) ?? {}) } },
    axisTick: { lineStyle: { color: t.axisLine } },
    axisLabel: { color: t.axisLabel, ...label },
    nameTextStyle: { color: t.text, ...name },
  };
}

/** A legend in the theme's colours (including the scroll legend's page arrows and counter). */
export function themedLegend(t: ChartTheme, legend: Option): Option {
  return {
    ...legend,
    textStyle: { color: t.text },
    pageTextStyle: { color: t.text },
    pageIconColor: t.text,
    pageIconInactiveColor: t.faint,
    inactiveColor: t.axisLine,
  };
}

/** Relative luminance of a #rrggbb colour (WCAG 2.x). */
export function luminance(hex: string): number {
  const rgb = parseHex(hex);
  if (!rgb) throw new Error(`not a #rrggbb colour: ${hex}`);
  const lin = (c: number): number => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2]);
}

/** WCAG contrast ratio of two #rrggbb colours (1 … 21). */
export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}
