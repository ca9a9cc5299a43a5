/**
 * Stability charts: the keep-fraction sweep and the narrow-width curve (mean with ±1 std error bars, a `custom`
 * series), each endpoint's per-layer θ_i losses against its base loss (Definition 1), and the noise-stability
 * histograms per layer and quantity (Definitions 2–4).
 */
import type { DropoutStability, NarrowPoint, NoiseStability, SweepPoint } from '../api/types';
import { num, pct } from '../util/format';
import { pathColour } from './palette';
import { type ChartTheme, chartTheme, themedAxis, themedLegend } from './theme';

type Option = Record<string, unknown>;

interface RenderApi {
  value(dim: number): number;
  coord(v: number[]): number[];
  size?(v: number[]): number[];
  style(extra?: Record<string, unknown>): Record<string, unknown>;
  visual(k: string): unknown;
}

/** Error bars: data [x, low, high]; a vertical line with caps. */
export function errorBarSeries(id: string, name: string, data: [number, number, number][], colour: string, yAxisIndex = 0): Option {
  return {
    id,
    name,
    type: 'custom',
    yAxisIndex,
    animation: false,
    silent: true,
    itemStyle: { color: colour },
    data,
    encode: { x: 0, y: [1, 2] },
    renderItem: (_params: unknown, api: RenderApi) => {
      const x = api.value(0);
      const lo = api.coord([x, api.value(1)]);
      const hi = api.coord([x, api.value(2)]);
      const cap = 4;
      const style = { stroke: colour, lineWidth: 1.3 };
      return {
        type: 'group',
        children: [
          { type: 'line', shape: { x1: lo[0], y1: lo[1], x2: hi[0], y2: hi[1] }, style },
          { type: 'line', shape: { x1: lo[0]! - cap, y1: lo[1], x2: lo[0]! + cap, y2: lo[1] }, style },
          { type: 'line', shape: { x1: hi[0]! - cap, y1: hi[1], x2: hi[0]! + cap, y2: hi[1] }, style },
        ],
      };
    },
  };
}

/** A y axis named along its middle (a name at the axis's end sits under the legend). */
function yAxisNamed(t: ChartTheme, name: string, extra: Option): Option {
  return themedAxis(t, { type: 'value', name, nameLocation: 'middle', nameGap: 46, ...extra });
}

const fin = (v: number): number | '-' => (Number.isFinite(v) ? v : '-');

/** Loss and accuracy of θ_1 against the kept fraction (best of `masks` random kept sets), mean ± std over endpoints. */
export function buildSweepOption(sweep: { masks: number; points: SweepPoint[] }, o: { dark?: boolean } = {}): Option {
  const t = chartTheme(o.dark);
  const pts = [...sweep.points].sort((a, b) => a.keepFraction - b.keepFraction);
  const lossC = pathColour(0);
  const accC = pathColour(1);
  return {
    animation: false,
    backgroundColor: 'transparent',
    textStyle: { color: t.text },
    legend: themedLegend(t, { top: 4, data: ['train loss', 'train accuracy'] }),
    tooltip: { trigger: 'axis' },
    grid: { left: 64, right: 64, top: 40, bottom: 44 },
    xAxis: themedAxis(t, { type: 'value', name: 'kept fraction', nameLocation: 'middle', nameGap: 26, min: 0, max: 1, splitLine: { show: false } }),
    yAxis: [
      yAxisNamed(t, 'train loss', { scale: true, splitLine: { lineStyle: { color: t.faint } } }),
      yAxisNamed(t, 'train accuracy', { scale: true, axisLabel: { formatter: (v: number) => pct(v, 0) }, splitLine: { show: false } }),
    ],
    series: [
      { id: 'sweep|loss', name: 'train loss', type: 'line', yAxisIndex: 0, color: lossC, symbolSize: 6, data: pts.map((p) => [p.keepFraction, fin(p.loss.mean)]), animation: false },
      errorBarSeries('sweep|loss|err', 'train loss ±1 std', pts.map((p) => [p.keepFraction, p.loss.mean - p.loss.std, p.loss.mean + p.loss.std]), lossC, 0),
      { id: 'sweep|acc', name: 'train accuracy', type: 'line', yAxisIndex: 1, color: accC, symbolSize: 6, lineStyle: { type: 'dashed' }, data: pts.map((p) => [p.keepFraction, fin(p.acc.mean)]), animation: false },
      errorBarSeries('sweep|acc|err', 'train accuracy ±1 std', pts.map((p) => [p.keepFraction, p.acc.mean - p.acc.std, p.acc.mean + p.acc.std]), accC, 1),
    ],
  };
}

/**
 * Narrow networks, as the paper's Fig. 2 (right): training loss and training accuracy against hidden width, mean ±
 * std over trials; test accuracy as a further, dashed series on the accuracy axis.
 */
export function buildNarrowOption(narrow: { trials: number; points: NarrowPoint[] }, o: { dark?: boolean } = {}): Option {
  const t = chartTheme(o.dark);
  const pts = [...narrow.points].sort((a, b) => a.width - b.width);
  const lossC = pathColour(0);
  const accC = pathColour(1);
  const testC = pathColour(2);
  return {
    animation: false,
    backgroundColor: 'transparent',
    textStyle: { color: t.text },
    legend: themedLegend(t, { top: 4, data: ['train loss', 'train accuracy', 'test accuracy'] }),
    tooltip: { trigger: 'axis' },
    grid: { left: 64, right: 64, top: 40, bottom: 44 },
    xAxis: themedAxis(t, { type: 'log', logBase: 2, name: 'hidden width', nameLocation: 'middle', nameGap: 26, splitLine: { show: false } }),
    yAxis: [
      yAxisNamed(t, 'train loss', { scale: true, splitLine: { lineStyle: { color: t.faint } } }),
      yAxisNamed(t, 'accuracy', { scale: true, axisLabel: { formatter: (v: number) => pct(v, 0) }, splitLine: { show: false } }),
    ],
    series: [
      { id: 'narrow|loss', name: 'train loss', type: 'line', yAxisIndex: 0, color: lossC, data: pts.map((p) => [p.width, fin(p.loss.mean)]), animation: false },
      errorBarSeries('narrow|loss|err', 'train loss ±1 std', pts.map((p) => [p.width, p.loss.mean - p.loss.std, p.loss.mean + p.loss.std]), lossC, 0),
      { id: 'narrow|trainacc', name: 'train accuracy', type: 'line', yAxisIndex: 1, color: accC, data: pts.map((p) => [p.width, fin(p.acc.mean)]), animation: false },
      errorBarSeries('narrow|trainacc|err', 'train accuracy ±1 std', pts.map((p) => [p.width, p.acc.mean - p.acc.std, p.acc.mean + p.acc.std]), accC, 1),
      { id: 'narrow|acc', name: 'test accuracy', type: 'line', yAxisIndex: 1, color: testC, lineStyle: { type: 'dashed' }, data: pts.map((p) => [p.width, fin(p.testAcc.mean)]), animation: false },
      errorBarSeries('narrow|acc|err', 'test accuracy ±1 std', pts.map((p) => [p.width, p.testAcc.mean - p.testAcc.std, p.testAcc.mean + p.testAcc.std]), testC, 1),
    ],
  };
}

/** Each endpoint's θ_i (hidden layers i … d−1 dropped) train loss, bars, with the full network's loss as a line. */
export function buildPerLayerOption(dropout: Record<string, DropoutStability>, o: { dark?: boolean } = {}): Option {
  const t = chartTheme(o.dark);
  const text = t.text;
  const names = Object.keys(dropout);
  const layers = [...new Set(names.flatMap((n) => dropout[n]!.perLayer.map((l) => l.i)))].sort((a, b) => a - b);
  return {
    animation: false,
    backgroundColor: 'transparent',
    textStyle: { color: text },
    legend: themedLegend(t, { top: 4 }),
    tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => num(v as number) },
    grid: { left: 64, right: 24, top: 40, bottom: 44 },
    xAxis: themedAxis(t, { type: 'category', name: 'θ_i drops hidden layers i … d−1', nameLocation: 'middle', nameGap: 26, data: layers.map((i) => `θ_${i}`) }),
    yAxis: yAxisNamed(t, 'train loss', { scale: false, splitLine: { lineStyle: { color: t.faint } } }),
    series: names.map((n, k) => {
      const d = dropout[n]!;
      return {
        id: `perlayer|${n}`,
        name: `${n} (ε = ${num(d.epsilon, 3)}, f = ${d.keepFraction})`,
        type: 'bar',
        color: pathColour(k),
        barMaxWidth: 56,
        data: layers.map((i) => fin(d.perLayer.find((l) => l.i === i)?.train.loss ?? NaN)),
        markLine: {
          symbol: ['none', 'none'],
          silent: true,
          animation: false,
          lineStyle: { color: pathColour(k), type: 'dashed' },
          label: { formatter: `L(θ) of ${n} = ${num(d.base.loss, 3)}`, color: text, position: k % 2 ? 'insideStartBottom' : 'insideEndTop' },
          data: [{ yAxis: d.base.loss }],
        },
      };
    }),
  };
}

export const NOISE_QUANTITIES = [
  { key: 'layerCushion', label: 'layer cushion μ_i' },
  { key: 'interlayerCushion', label: 'interlayer cushion μ_{i→}' },
  { key: 'activationContraction', label: 'activation contraction c' },
  { key: 'interlayerSmoothness', label: 'interlayer smoothness ρ' },
] as const;
export type NoiseQuantity = (typeof NOISE_QUANTITIES)[number]['key'];

/** Histograms of one noise-stability quantity of one endpoint, one bar series per layer (overlaid). */
export function buildNoiseHistogramOption(noise: NoiseStability, quantity: NoiseQuantity, o: { dark?: boolean } = {}): Option {
  const t = chartTheme(o.dark);
  const series: Option[] = [];
  noise.layers.forEach((layer, k) => {
    const dist = layer[quantity];
    if (!dist || !dist.histogram.counts.length) return;
    const { edges, counts } = dist.histogram;
    const colour = pathColour(k);
    series.push({
      id: `noise|${quantity}|${layer.layer}`,
      name: `layer ${layer.layer} (median ${num(dist.median, 3)}${dist.infinite ? `, ${dist.infinite} at ∞` : ''})`,
      type: 'custom',
      color: colour,
      animation: false,
      // One rectangle per bin: [left edge, right edge, fraction of the samples].
      data: counts.map((c, b) => [edges[b] ?? 0, edges[b + 1] ?? 0, c / Math.max(1, dist.n)]),
      encode: { x: [0, 1], y: 2 },
      renderItem: (_params: unknown, api: RenderApi) => {
        const p0 = api.coord([api.value(0), 0]);
        const p1 = api.coord([api.value(1), api.value(2)]);
        return {
          type: 'rect',
          shape: { x: p0[0], y: p1[1], width: Math.max(1, p1[0]! - p0[0]!), height: p0[1]! - p1[1]! },
          style: { fill: colour, opacity: 0.5, stroke: colour, lineWidth: 0.5 },
        };
      },
    });
  });
  return {
    animation: false,
    backgroundColor: 'transparent',
    textStyle: { color: t.text },
    legend: themedLegend(t, { type: 'scroll', top: 4 }),
    tooltip: { trigger: 'item', formatter: (p: { seriesName: string; value: number[] }) => `${p.seriesName}<br/>[${num(p.value[0]!, 3)}, ${num(p.value[1]!, 3)}): ${pct(p.value[2]!, 1)}` },
    grid: { left: 64, right: 24, top: 40, bottom: 44 },
    xAxis: themedAxis(t, { type: 'value', name: NOISE_QUANTITIES.find((q) => q.key === quantity)!.label, nameLocation: 'middle', nameGap: 26, scale: true, splitLine: { show: false } }),
    // Named along the axis's middle: at its end the name sat under the legend.
    yAxis: yAxisNamed(t, 'fraction of samples', { axisLabel: { formatter: (v: number) => pct(v, 0) }, splitLine: { lineStyle: { color: t.faint } } }),
    series,
  };
}
