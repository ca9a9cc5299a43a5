/**
 * The path chart: loss (or accuracy) along every path of one or more runs, t on x. One line series per run, path
 * and split (train solid, test dashed); colour per path, or per run when comparing runs (pairwise different run
 * colours, palette.ts; the paths of one run in shades of its colour within a bounded lightness range, each with its
 * own marker). The segments of one path are shaded by kind (a/b/c/line/curve, with a legend entry per kind); the
 * endpoints are marked; the barrier of each path is annotated at its t with its value (the metric chosen by the
 * user); a proven loss bound (Theorem 1) is drawn as a labelled horizontal line. The tooltip lists every drawn path
 * at the hovered t, linearly interpolated between the path's evaluated points (paths are evaluated at different
 * t). Plain data in, plain ECharts option out: no echarts import here, so the builders are tested on the option
 * objects.
 */
import type { Barrier, PathPoint, PathResult, SplitBarrier } from '../api/types';
import { num, pct } from '../util/format';
import { PATH_SYMBOLS, SEGMENT_KINDS, type ShadedKind, assignRunColours, pathColour, runColour, runShades } from './palette';
import { chartTheme, themedAxis, themedLegend } from './theme';
import { ZOOM_BAND, roundTicksOnly, xZoom } from './zoom';

export type Split = 'train' | 'test';
export type Quantity = 'loss' | 'acc';
export type BarrierMetric = keyof SplitBarrier;

export const BARRIER_METRICS: { key: BarrierMetric; label: string; quantity: Quantity }[] = [
  { key: 'lossOverInterpolation', label: 'loss − interpolation of the ends', quantity: 'loss' },
  { key: 'lossOverEndpointMean', label: 'loss − mean of the ends', quantity: 'loss' },
  { key: 'maxLoss', label: 'max loss', quantity: 'loss' },
  { key: 'errorOverInterpolation', label: 'error − interpolation of the ends', quantity: 'acc' },
  { key: 'errorOverEndpointMean', label: 'error − mean of the ends', quantity: 'acc' },
  { key: 'maxError', label: 'max error', quantity: 'acc' },
];

export function metricQuantity(m: BarrierMetric): Quantity {
  return BARRIER_METRICS.find((b) => b.key === m)!.quantity;
}

export interface RunPaths {
  id: string;
  name: string;
  colour?: string | null;
  paths: PathResult[];
}

export interface PathChartSettings {
  quantity: Quantity;
  splits: Split[];
  /** The barrier to annotate (shown on the chart of its quantity). */
  barrier: { metric: BarrierMetric; split: Split } | null;
  logY: boolean;
  /** Colour by path (one run) or by run (comparing runs). */
  colourBy: 'path' | 'run';
  /** The path whose segments are shaded; null: none. */
  shadePath: string | null;
  /** Path names to draw (undefined: all). */
  paths?: string[];
  dark?: boolean;
  /** Zoom controls (inside + slider); off for exports. */
  zoom?: boolean;
  title?: string;
}

type Option = Record<string, unknown>;

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

function value(p: PathPoint, split: Split, q: Quantity): number | null {
  const v = p[split]?.[q];
  return finite(v) ? v : null;
}

/** The value of a split's quantity at t (exact point if present, else linear interpolation). */
export function valueAt(points: PathPoint[], t: number, split: Split, q: Quantity): number | null {
  const sorted = [...points].sort((a, b) => a.t - b.t);
  const exact = sorted.find((p) => Math.abs(p.t - t) < 1e-12);
  if (exact) return value(exact, split, q);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    if (a.t <= t && t <= b.t) {
      const va = value(a, split, q);
      const vb = value(b, split, q);
      if (va === null || vb === null) return null;
      return va + ((t - a.t) / (b.t - a.t)) * (vb - va);
    }
  }
  return null;
}

/** Where the annotation's vertical bar starts: the chord (or mean) the barrier is measured from. */
export function barrierBase(points: PathPoint[], metric: BarrierMetric, split: Split, t: number): number | null {
  const q = metricQuantity(metric);
  const sorted = [...points].sort((a, b) => a.t - b.t);
  if (sorted.length < 2) return null;
  const first = sorted[0]!;
  const last = sorted[sorted.length - 1]!;
  const v0 = value(first, split, q);
  const v1 = value(last, split, q);
  if (v0 === null || v1 === null) return null;
  if (metric === 'lossOverInterpolation' || metric === 'errorOverInterpolation') {
    const s = (t - first.t) / (last.t - first.t || 1);
    return (1 - s) * v0 + s * v1;
  }
  if (metric === 'lossOverEndpointMean' || metric === 'errorOverEndpointMean') return (v0 + v1) / 2;
  return null;
}

export function formatBarrier(metric: BarrierMetric, v: number | null | undefined): string {
  return metricQuantity(metric) === 'loss' ? num(v) : pct(v);
}

export function seriesId(runId: string, path: string, split: Split): string {
  return `${runId}|${path}|${split}`;
}

/** The segments of a path as t ranges, shading alternating in strength so boundaries between equal kinds show. */
export function segmentBands(path: PathResult): { kind: ShadedKind; t0: number; t1: number; label?: string; index: number }[] {
  const S = path.segments.length;
  if (!S) return [];
  return path.segments.map((s, i) => ({ kind: s.kind as ShadedKind, t0: i / S, t1: (i + 1) / S, index: i, ...(s.label ? { label: s.label } : {}) }));
}

/** One drawn line as the tooltip reads it. */
export interface TooltipLine {
  name: string;
  colour: string;
  split: Split;
  points: PathPoint[];
}

function escapeHtml(v: string): string {
  return v.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The tooltip at t: every line's value there — the evaluated point when the path has one at t, else linear
 * interpolation between its neighbours (marked ≈). Names are escaped: they are user input.
 */
export function pathTooltip(lines: TooltipLine[], t: number, q: Quantity): string {
  const fmt = q === 'loss' ? (v: number) => num(v) : (v: number) => pct(v);
  const rows = lines.map((l) => {
    const exact = l.points.some((p) => Math.abs(p.t - t) < 1e-9);
    const v = valueAt(l.points, t, l.split, q);
    const shown = v === null ? '—' : `${exact ? '' : '≈ '}${fmt(v)}`;
    return `<span style="display:inline-block;width:9px;height:9px;border-radius:50%;background:${escapeHtml(l.colour)};margin-right:5px"></span>${escapeHtml(l.name)}: <b>${shown}</b>`;
  });
  return [`t = ${t.toFixed(3)} <span style="opacity:.75">(≈: linear interpolation between the path’s evaluated points)</span>`, ...rows].join('<br/>');
}

export function buildPathChartOption(runs: RunPaths[], s: PathChartSettings): Option {
  const q = s.quantity;
  const series: Option[] = [];
  const legend: (string | { name: string; icon: string })[] = [];
  const multiRun = runs.length > 1 || s.colourBy === 'run';
  const barrierHere = s.barrier && metricQuantity(s.barrier.metric) === q ? s.barrier : null;
  const theme = chartTheme(s.dark);
  const text = theme.text;
  const tooltipLines: TooltipLine[] = [];
  // Comparing: pairwise different run colours (one rule, palette.ts).
  const colours = s.colourBy === 'run' ? assignRunColours(runs) : null;

  runs.forEach((run) => {
    const rc = colours?.get(run.id) ?? runColour(run);
    const shades = runShades(rc, run.paths.length, s.dark);
    const shown = run.paths.filter((p) => !s.paths || s.paths.includes(p.name));
    shown.forEach((path) => {
      const pi = run.paths.indexOf(path);
      // By run: a shade of the run's colour per path (never near black or white) and a marker per path.
      const byRun = s.colourBy === 'run';
      const colour = byRun ? shades[pi]! : pathColour(pi);
      const sorted = [...path.points].sort((a, b) => a.t - b.t);
      const every = Math.max(1, Math.round(sorted.length / 8));
      const markers = byRun
        ? { showSymbol: true, symbol: PATH_SYMBOLS[pi % PATH_SYMBOLS.length], symbolSize: (_v: unknown, p: { dataIndex: number }) => (p.dataIndex % every === pi % every ? 7 : 0) }
        : { showSymbol: false, symbolSize: 4 };
      for (const split of s.splits) {
        const name = multiRun ? `${run.name} · ${path.name} · ${split}` : `${path.name} · ${split}`;
        legend.push(name);
        tooltipLines.push({ name, colour, split, points: sorted });
        const line: Option = {
          id: seriesId(run.id, path.name, split),
          name,
          type: 'line',
          data: sorted.map((p) => [p.t, value(p, split, q) ?? '-']),
          ...markers,
          sampling: 'lttb',
          connectNulls: false,
          animation: false,
          color: colour,
          lineStyle: { width: split === 'train' ? 2 : 1.6, type: split === 'train' ? 'solid' : 'dashed', color: colour },
          emphasis: { focus: 'series' },
          z: 3,
        };
        const b = barrierHere && barrierHere.split === split ? (path.barrier as Barrier | undefined)?.[split]?.[barrierHere.metric] : undefined;
        if (barrierHere && b && finite(b.value)) {
          const y = valueAt(path.points, b.t, split, q);
          const base = barrierBase(path.points, barrierHere.metric, split, b.t);
          const label = `${multiRun ? `${run.name} · ` : ''}${path.name}: ${formatBarrier(barrierHere.metric, b.value)} @ t=${b.t.toFixed(3)}`;
          if (y !== null) {
            line['markPoint'] = {
              symbol: 'circle',
              symbolSize: 9,
              animation: false,
              itemStyle: { color: colour, borderColor: theme.background, borderWidth: 1.5 },
              label: {
                show: true,
                position: 'top',
                distance: 6,
                formatter: `${multiRun ? '' : `${path.name} `}${formatBarrier(barrierHere.metric, b.value)} @ t=${b.t.toFixed(2)}`,
                fontSize: 11,
                color: text,
                backgroundColor: theme.labelBackground,
                borderColor: colour,
                borderWidth: 1,
                borderRadius: 3,
                padding: [2, 4],
              },
              data: [{ name: 'barrier', coord: [b.t, y], value: b.value, barrier: { metric: barrierHere.metric, split, t: b.t, value: b.value, path: path.name, run: run.id } }],
              tooltip: { formatter: label },
            };
            if (base !== null) {
              line['markLine'] = {
                symbol: ['none', 'none'],
                silent: true,
                animation: false,
                lineStyle: { color: colour, type: 'dotted', width: 1.5 },
                label: { show: false },
                data: [[{ coord: [b.t, base] }, { coord: [b.t, y] }]],
              };
            }
          }
        }
        series.push(line);
      }
      // The proven loss bound (train loss), as a labelled horizontal line across the path; a bound proven for part
      // of the path only (Theorems 2/3: the Lemma 2 segments) names that part in its label.
      const bound = path.check?.lossBound;
      if (q === 'loss' && bound && finite(bound.bound) && (!s.logY || bound.bound > 0)) {
        const name = `${multiRun ? `${run.name} · ` : ''}${path.name} · loss bound`;
        legend.push(name);
        series.push({
          id: `${run.id}|${path.name}|bound`,
          name,
          type: 'line',
          // Two points so the y axis always includes the bound; the markLine draws it with its label.
          data: [
            [0, bound.bound],
            [1, bound.bound],
          ],
          showSymbol: false,
          silent: true,
          animation: false,
          color: colour,
          lineStyle: { width: 0 },
          markLine: {
            symbol: ['none', 'none'],
            silent: true,
            animation: false,
            lineStyle: { color: colour, type: [6, 3, 1, 3], width: 1.5 },
            label: { show: true, position: 'insideStartTop', formatter: `${path.name} loss bound ${num(bound.bound)}${bound.over ? ` over ${bound.over}` : ''}`, color: text, fontSize: 11 },
            data: [{ yAxis: bound.bound }],
          },
          z: 2,
        });
      }
    });

    // Endpoint markers: each endpoint once per run, at its t (0 for `from`, 1 for `to`).
    const marks = new Map<string, { t: number; y: number; name: string }>();
    for (const path of shown) {
      const sorted = [...path.points].sort((a, b) => a.t - b.t);
      const split = s.splits[0] ?? 'train';
      const first = sorted[0];
      const last = sorted[sorted.length - 1];
      if (first && first.t === 0) {
        const y = value(first, split, q);
        if (y !== null && !marks.has(`0|${path.from}`)) marks.set(`0|${path.from}`, { t: 0, y, name: `θ_${path.from}` });
      }
      if (last && last.t === 1 && path.to !== path.from) {
        const y = value(last, split, q);
        if (y !== null && !marks.has(`1|${path.to}`)) marks.set(`1|${path.to}`, { t: 1, y, name: `θ_${path.to}` });
      }
    }
    if (marks.size) {
      series.push({
        id: `${run.id}|endpoints`,
        name: multiRun ? `${run.name} · endpoints` : 'endpoints',
        type: 'scatter',
        symbol: 'diamond',
        symbolSize: 11,
        animation: false,
        z: 5,
        itemStyle: { color: multiRun ? rc : text, borderColor: theme.background, borderWidth: 1 },
        label: { show: true, position: 'top', formatter: '{b}', color: text, fontSize: 11 },
        // Labels grow away from the plot's edge (centred on t = 0 they covered the y tick labels).
        data: [...marks.values()].map((m) => ({ name: m.name, value: [m.t, m.y], label: { align: m.t === 0 ? 'left' : 'right' } })),
      });
    }
  });

  // Segment shading of one path, one helper series per kind (so the legend explains the colours).
  const shadeRun = runs[0];
  const shaded = s.shadePath && shadeRun ? shadeRun.paths.find((p) => p.name === s.shadePath) : undefined;
  if (shaded) {
    // A path of one segment (a straight line, a Bézier curve) has no boundaries to show.
    const bands = shaded.segments.length > 1 ? segmentBands(shaded) : [];
    const kinds = [...new Set(bands.map((b) => b.kind))];
    for (const kind of kinds) {
      const k = SEGMENT_KINDS[kind] ?? SEGMENT_KINDS.line;
      legend.push({ name: k.label, icon: 'rect' });
      series.push({
        id: `segments|${kind}`,
        name: k.label,
        type: 'line',
        data: [],
        color: k.colour,
        silent: true,
        animation: false,
        markArea: {
          silent: false,
          animation: false,
          label: { show: false },
          emphasis: { label: { show: true, position: 'insideTop', fontSize: 10, color: text } },
          data: bands
            .filter((b) => b.kind === kind)
            .map((b) => [
              { xAxis: b.t0, itemStyle: { color: k.colour, opacity: b.index % 2 ? 0.1 : 0.2 }, name: b.label ?? '' },
              { xAxis: b.t1 },
            ]),
        },
      });
    }
  }

  const option: Option = {
    animation: false,
    backgroundColor: 'transparent',
    textStyle: { color: text },
    ...(s.title ? { title: { text: s.title, left: 'center', textStyle: { fontSize: 13, color: text } } } : {}),
    grid: { left: 64, right: 24, top: s.title ? 64 : 48, bottom: s.zoom === false ? 40 : 40 + ZOOM_BAND },
    legend: themedLegend(theme, { type: 'scroll', top: s.title ? 28 : 4, data: legend }),
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: 'line', snap: false },
      formatter: (params: unknown) => {
        const first = (Array.isArray(params) ? params[0] : params) as { axisValue?: unknown } | undefined;
        const t = Number(first?.axisValue);
        return Number.isFinite(t) ? pathTooltip(tooltipLines, t, q) : '';
      },
    },
    xAxis: themedAxis(theme, { type: 'value', name: 't', nameLocation: 'middle', nameGap: 24, min: 0, max: 1, axisLabel: { formatter: roundTicksOnly() }, splitLine: { show: false } }),
    yAxis: themedAxis(theme, {
      type: s.logY && q === 'loss' ? 'log' : 'value',
      name: q === 'loss' ? 'loss (cross-entropy)' : 'accuracy',
      nameLocation: 'middle',
      nameGap: 48,
      scale: true,
      splitLine: { lineStyle: { color: theme.faint } },
      ...(q === 'acc' ? { axisLabel: { formatter: (v: number) => `${Math.round(v * 1000) / 10}%` } } : {}),
    }),
    series,
  };
  if (s.zoom !== false) option['dataZoom'] = xZoom(0, theme);
  return option;
}

/** What the barrier table shows: every path's six metrics per split. */
export function barrierRows(paths: PathResult[]): { path: string; kind: string; split: Split; values: Record<BarrierMetric, { value: number; t: number } | undefined> }[] {
  const rows: ReturnType<typeof barrierRows> = [];
  for (const p of paths) {
    for (const split of ['train', 'test'] as const) {
      const sb = p.barrier?.[split];
      rows.push({
        path: p.name,
        kind: p.kind,
        split,
        values: Object.fromEntries(BARRIER_METRICS.map((m) => [m.key, sb?.[m.key]])) as Record<BarrierMetric, { value: number; t: number } | undefined>,
      });
    }
  }
  return rows;
}
