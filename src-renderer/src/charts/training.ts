/**
 * Training curves (mean minibatch loss and accuracy against step, per endpoint), with debiased exponential smoothing
 * computed on the full-resolution series (TensorBoard's formula) and the raw series drawn faintly behind; where the
 * curve points carry test metrics (engine/train/test-probe.ts), the test loss and accuracy as dashed lines in the
 * endpoint's colour (not smoothed: each is one evaluation of the weights at that point, not a minibatch mean).
 */
import type { CurvePoint } from '../api/types';
import { num, pct } from '../util/format';
import { pathColour } from './palette';
import { chartTheme, themedAxis, themedLegend } from './theme';
import { ZOOM_BAND, roundTicksOnly, xZoom } from './zoom';

type Option = Record<string, unknown>;

/**
 * Debiased EMA: s_k = w·s_{k−1} + (1−w)·x_k, divided by (1 − w^n) where n counts the finite values seen — so the
 * start is not pulled towards 0; non-finite values are skipped (and stay gaps); w = 0 returns the input.
 */
export function smooth(values: (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return values.slice();
  let last = 0;
  let n = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return null;
    last = last * weight + (1 - weight) * v;
    n++;
    return last / (1 - weight ** n);
  });
}

export interface TrainingSettings {
  /** 0 … 0.99 */
  smoothing: number;
  /** x axis: optimiser step or epoch. */
  x: 'step' | 'epoch';
  logY: boolean;
  dark?: boolean;
  zoom?: boolean;
}

export function trainingSeriesIds(endpoint: string): { loss: string; acc: string; lossRaw: string; accRaw: string; testLoss: string; testAcc: string } {
  return {
    loss: `${endpoint}|loss`,
    acc: `${endpoint}|acc`,
    lossRaw: `${endpoint}|loss|raw`,
    accRaw: `${endpoint}|acc|raw`,
    testLoss: `${endpoint}|test-loss`,
    testAcc: `${endpoint}|test-acc`,
  };
}

/** The series for the given curves (also used alone for live updates: setOption({series}) merges by id). */
export function trainingSeries(curves: Record<string, CurvePoint[]>, s: TrainingSettings): Option[] {
  const out: Option[] = [];
  Object.entries(curves).forEach(([endpoint, pts], i) => {
    const colour = pathColour(i);
    const xs = pts.map((p) => (s.x === 'epoch' ? p.epoch : p.step));
    const ids = trainingSeriesIds(endpoint);
    const loss = pts.map((p) => (Number.isFinite(p.loss) ? p.loss : null));
    const acc = pts.map((p) => (Number.isFinite(p.acc) ? p.acc : null));
    const pairs = (ys: (number | null)[]): unknown[][] => xs.map((x, k) => [x, ys[k] ?? '-']);
    const common = { type: 'line', showSymbol: false, sampling: 'lttb', animation: false, color: colour };
    if (s.smoothing > 0) {
      out.push({ ...common, id: ids.lossRaw, name: `${endpoint} loss (raw)`, data: pairs(loss), lineStyle: { width: 1, opacity: 0.25, color: colour }, xAxisIndex: 0, yAxisIndex: 0, silent: true });
      out.push({ ...common, id: ids.accRaw, name: `${endpoint} accuracy (raw)`, data: pairs(acc), lineStyle: { width: 1, opacity: 0.25, color: colour, type: 'dashed' }, xAxisIndex: 1, yAxisIndex: 1, silent: true });
    }
    out.push({ ...common, id: ids.loss, name: `${endpoint} loss`, data: pairs(smooth(loss, s.smoothing)), lineStyle: { width: 2, color: colour }, xAxisIndex: 0, yAxisIndex: 0 });
    out.push({ ...common, id: ids.acc, name: `${endpoint} accuracy`, data: pairs(smooth(acc, s.smoothing)), lineStyle: { width: 2, color: colour }, xAxisIndex: 1, yAxisIndex: 1 });
    if (pts.some((p) => p.testLoss !== undefined)) {
      const finite = (v: number | undefined): number | null => (v !== undefined && Number.isFinite(v) ? v : null);
      const dashed = { width: 2, color: colour, type: 'dashed' };
      out.push({ ...common, id: ids.testLoss, name: `${endpoint} test loss`, data: pairs(pts.map((p) => finite(p.testLoss))), lineStyle: dashed, xAxisIndex: 0, yAxisIndex: 0 });
      out.push({ ...common, id: ids.testAcc, name: `${endpoint} test accuracy`, data: pairs(pts.map((p) => finite(p.testAcc))), lineStyle: dashed, xAxisIndex: 1, yAxisIndex: 1 });
    }
  });
  return out;
}

export function buildTrainingOption(curves: Record<string, CurvePoint[]>, s: TrainingSettings): Option {
  const theme = chartTheme(s.dark);
  const series = trainingSeries(curves, s);
  const xName = s.x === 'epoch' ? 'epoch' : 'step';
  const axis = (extra: Option): Option => themedAxis(theme, { type: 'value', splitLine: { lineStyle: { color: theme.faint } }, ...extra });
  const option: Option = {
    animation: false,
    backgroundColor: 'transparent',
    textStyle: { color: theme.text },
    legend: themedLegend(theme, { type: 'scroll', top: 4, data: series.filter((x) => !String(x['id']).endsWith('|raw')).map((x) => x['name']) }),
    tooltip: { trigger: 'axis' },
    grid: [
      { left: 64, right: 40, top: 44, bottom: '56%' },
      { left: 64, right: 40, top: '52%', bottom: s.zoom === false ? 40 : 34 + ZOOM_BAND },
    ],
    xAxis: [
      axis({ gridIndex: 0, scale: true, axisLabel: { show: false } }),
      axis({ gridIndex: 1, name: xName, nameLocation: 'middle', nameGap: 24, scale: true, axisLabel: { formatter: roundTicksOnly() } }),
    ],
    yAxis: [
      axis({ gridIndex: 0, type: s.logY ? 'log' : 'value', name: 'loss (train: minibatch)', nameLocation: 'middle', nameGap: 46, scale: true, axisLabel: { formatter: (v: number) => num(v, 3) } }),
      axis({ gridIndex: 1, name: 'accuracy', nameLocation: 'middle', nameGap: 46, scale: true, axisLabel: { formatter: (v: number) => pct(v, 0) } }),
    ],
    axisPointer: { link: [{ xAxisIndex: 'all' }] },
    series,
  };
  if (s.zoom !== false) option['dataZoom'] = xZoom([0, 1], theme);
  return option;
}
