/**
 * A study's aggregated figures (issue 14 item 6): for one metric — a family, a quantity and a split of the study's
 * metric list (engine/study/metrics.ts, aggregated by engine/study/aggregate.ts) — the mean ± std over trials
 * against the swept axis, each trial's value as a faint point, one series per subject (each path: naive, matched,
 * Theorem 1; each endpoint). The x axis is the study's first axis, or for the families measured inside a run
 * (kept-fraction sweep, narrow widths, θ_i) that run's own x; a second axis (or, for those families, the study's
 * axis) makes small multiples, one chart per value.
 */
import type { StudyDocument } from '../api/types';
import { pct } from '../util/format';
import { pathColour } from './palette';
import { errorBarSeries } from './stability';
import { chartTheme, themedAxis, themedLegend } from './theme';

type Option = Record<string, unknown>;
type Row = StudyDocument['table'][number];

/** One figure the study can draw: which rows, how it is titled. */
export interface StudyFigure {
  key: string;
  family: Row['family'];
  quantity: string;
  split: Row['split'];
  label: string;
}

const FAMILY_LABEL: Record<Row['family'], string> = {
  barrier: 'barrier',
  endpoint: 'endpoint',
  dropout: 'dropout stability',
  noise: 'noise stability',
  sweep: 'θ_1 vs kept fraction',
  narrow: 'narrow networks',
};

/** Families whose x is measured inside each run (Fig. 2 left and right, θ_i). */
const IN_RUN_X: Partial<Record<Row['family'], string>> = { sweep: 'kept fraction', narrow: 'hidden width', dropout: 'i (layers i … d−1 dropped)' };

const figureKey = (r: Pick<Row, 'family' | 'quantity' | 'split'>): string => `${r.family}|${r.quantity}|${r.split}`;

/** Every figure the study's table holds, in the table's order (the metric list's order). */
export function studyFigures(doc: StudyDocument): StudyFigure[] {
  const out = new Map<string, StudyFigure>();
  for (const r of doc.table) {
    const key = figureKey(r);
    if (!out.has(key)) out.set(key, { key, family: r.family, quantity: r.quantity, split: r.split, label: `${FAMILY_LABEL[r.family]}: ${r.quantity}${r.split ? ` (${r.split})` : ''}` });
  }
  return [...out.values()];
}

/** The figure a study opens on: a barrier (test, loss over the endpoints' mean) when it has paths, else the first. */
export function defaultFigure(figs: StudyFigure[]): StudyFigure | undefined {
  return figs.find((f) => f.key === 'barrier|lossOverEndpointMean|test') ?? figs.find((f) => f.family === 'barrier') ?? figs[0];
}

/** An axis value as a number where it is one: 32, [32] and [32, 32] are 32; anything else has no number. */
export function axisNumber(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (Array.isArray(v) && v.length && v.every((x) => x === v[0]) && typeof v[0] === 'number' && Number.isFinite(v[0])) return v[0];
  return null;
}

const valueText = (v: unknown): string => (axisNumber(v) !== null && !Array.isArray(v) ? String(v) : JSON.stringify(v));

/** One chart of the small multiples. */
export interface StudyPanel {
  /** '' for a single chart; else the panel's setting, e.g. `training.epochs=2`. */
  title: string;
  option: Option;
}

interface Point {
  x: number | string;
  mean: number | null;
  std: number | null;
  values: (number | null)[];
}

/**
 * The panels of one figure: one chart, or one per value of the axis that does not sit on x. `dark` themes them.
 */
export function buildStudyPanels(doc: StudyDocument, fig: StudyFigure, o: { dark?: boolean } = {}): StudyPanel[] {
  const rows = doc.table.filter((r) => figureKey(r) === fig.key);
  const axes = doc.study.recipe.axes;
  const inRun = IN_RUN_X[fig.family] !== undefined && rows.some((r) => r.x !== undefined);
  // x: the run's own x, else the first axis; panels: the study's axes left over (first for in-run, second otherwise).
  const xAxis = inRun ? undefined : axes[0];
  const panelAxis = inRun ? axes[0] : axes[1];
  const xName = inRun ? IN_RUN_X[fig.family]! : xAxis ? xAxis.field : 'study';
  const numericX = inRun || (!!xAxis && xAxis.values.every((v) => axisNumber(v) !== null));
  const setting = (r: Row, field: string | undefined): unknown => (field === undefined ? undefined : r.settings.find((s) => s.field === field)?.value);
  const xOf = (r: Row): number | string => (inRun ? r.x! : xAxis ? (numericX ? axisNumber(setting(r, xAxis.field))! : valueText(setting(r, xAxis.field))) : 'all');
  // With more axes than the chart shows (a third, or a second beside an in-run x), groups stay apart as series.
  const extra = axes.filter((a) => a !== xAxis && a !== panelAxis);
  const seriesOf = (r: Row): string => [r.subject, ...extra.map((a) => `${a.field}=${valueText(setting(r, a.field))}`)].filter(Boolean).join(' · ') || fig.quantity;

  const panelValues = panelAxis ? panelAxis.values.map(valueText) : [''];
  const panels: StudyPanel[] = [];
  for (const pv of panelValues) {
    const inPanel = panelAxis ? rows.filter((r) => valueText(setting(r, panelAxis.field)) === pv) : rows;
    const bySeries = new Map<string, Point[]>();
    for (const r of inPanel) {
      const name = seriesOf(r);
      if (!bySeries.has(name)) bySeries.set(name, []);
      bySeries.get(name)!.push({ x: xOf(r), mean: r.mean, std: r.std, values: r.values.map((v) => v.value) });
    }
    panels.push({ title: panelAxis ? `${panelAxis.field}=${pv}` : '', option: panelOption(bySeries, { xName, numericX, fig, dark: o.dark }) });
  }
  return panels;
}

function panelOption(bySeries: Map<string, Point[]>, o: { xName: string; numericX: boolean; fig: StudyFigure; dark?: boolean }): Option {
  const t = chartTheme(o.dark);
  const isAcc = o.fig.quantity === 'acc';
  const series: Option[] = [];
  const xs = [...bySeries.values()].flat().map((p) => p.x);
  const nums = xs.filter((x): x is number => typeof x === 'number');
  // Widths double from one value to the next: a log axis spaces them evenly.
  const logX = o.numericX && nums.length > 0 && Math.min(...nums) > 0 && Math.max(...nums) / Math.min(...nums) >= 8;
  [...bySeries.entries()].forEach(([name, pts], i) => {
    const colour = pathColour(i);
    const sorted = [...pts].sort((a, b) => (typeof a.x === 'number' && typeof b.x === 'number' ? a.x - b.x : 0));
    series.push({ id: `${name}|mean`, name, type: 'line', color: colour, symbolSize: 7, data: sorted.map((p) => [p.x, p.mean ?? '-']), animation: false });
    const bars = sorted.filter((p) => p.mean !== null && p.std !== null).map((p) => [p.x, p.mean! - p.std!, p.mean! + p.std!] as [number, number, number]);
    series.push(errorBarSeries(`${name}|err`, `${name} ±1 std`, bars, colour));
    series.push({
      id: `${name}|trials`,
      name: `${name} trials`,
      type: 'scatter',
      color: colour,
      symbolSize: 5,
      itemStyle: { opacity: 0.3 },
      data: sorted.flatMap((p) => p.values.filter((v): v is number => v !== null).map((v) => [p.x, v])),
      animation: false,
    });
  });
  const yName = `${o.fig.quantity}${o.fig.split ? ` (${o.fig.split})` : ''}`;
  return {
    animation: false,
    backgroundColor: 'transparent',
    textStyle: { color: t.text },
    legend: themedLegend(t, { top: 4, data: [...bySeries.keys()] }),
    tooltip: { trigger: 'item' },
    grid: { left: 64, right: 24, top: 40, bottom: 48 },
    xAxis: themedAxis(t, {
      type: o.numericX ? (logX ? 'log' : 'value') : 'category',
      ...(logX ? { logBase: 2 } : {}),
      ...(o.numericX ? { scale: true } : { data: [...new Set(xs)] }),
      name: o.xName,
      nameLocation: 'middle',
      nameGap: 28,
      splitLine: { show: false },
    }),
    yAxis: themedAxis(t, {
      type: 'value',
      name: `${yName}, mean ± std`,
      nameLocation: 'middle',
      nameGap: 48,
      scale: true,
      ...(isAcc ? { axisLabel: { formatter: (v: number) => pct(v, 0) } } : {}),
      splitLine: { lineStyle: { color: t.faint } },
    }),
    series,
  };
}
