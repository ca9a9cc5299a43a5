/**
 * The loss plane through θ_A, θ_B and a third network (run.plane): the surface as coloured cells in plane
 * coordinates (a `custom` series on value axes, so the paths' projections overlay exactly), the three spanning
 * networks as markers, and every path projected onto the plane as a polyline — dashed and faint where it leaves the
 * plane by more than 5 % of ‖θ_B − θ_A‖.
 */
import type { PlaneResult } from '../api/types';
import { num, pct } from '../util/format';
import { VIRIDIS, pathColour } from './palette';
import { chartTheme, themedAxis, themedLegend } from './theme';

type Option = Record<string, unknown>;

export interface PlaneSettings {
  split: 'train' | 'test';
  quantity: 'loss' | 'acc';
  /** Colour by log10(loss) (loss only). */
  logColour: boolean;
  dark?: boolean;
}

interface RenderApi {
  value(dim: number): number;
  coord(v: number[]): number[];
  visual(k: string): unknown;
}

export function buildPlaneOption(plane: PlaneResult, s: PlaneSettings): Option {
  const theme = chartTheme(s.dark);
  const text = theme.text;
  const { xs, ys } = plane.grid;
  const surface = plane[s.split][s.quantity];
  const dx = xs.length > 1 ? (xs[xs.length - 1]! - xs[0]!) / (xs.length - 1) : 1;
  const dy = ys.length > 1 ? (ys[ys.length - 1]! - ys[0]!) / (ys.length - 1) : 1;
  const useLog = s.quantity === 'loss' && s.logColour;
  const cells: [number, number, number | '-', number | '-'][] = [];
  let lo = Infinity;
  let hi = -Infinity;
  ys.forEach((y, iy) =>
    xs.forEach((x, ix) => {
      const raw = surface[iy]?.[ix];
      const v = typeof raw === 'number' && Number.isFinite(raw) && (!useLog || raw > 0) ? (useLog ? Math.log10(raw) : raw) : null;
      if (v !== null) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      cells.push([x, y, v ?? '-', typeof raw === 'number' && Number.isFinite(raw) ? raw : '-']);
    }),
  );
  if (!Number.isFinite(lo)) {
    lo = 0;
    hi = 1;
  }
  const series: Option[] = [
    {
      id: 'plane|surface',
      name: `${s.split} ${s.quantity}`,
      type: 'custom',
      animation: false,
      data: cells,
      encode: { x: 0, y: 1, tooltip: [3] },
      renderItem: (_p: unknown, api: RenderApi) => {
        const x = api.value(0);
        const y = api.value(1);
        const a = api.coord([x - dx / 2, y + dy / 2]);
        const b = api.coord([x + dx / 2, y - dy / 2]);
        return {
          type: 'rect',
          shape: { x: a[0], y: a[1], width: b[0]! - a[0]! + 0.5, height: b[1]! - a[1]! + 0.5 },
          style: { fill: api.visual('color') as string },
        };
      },
      z: 1,
    },
  ];
  const lengthAB = plane.basis.lengthAB || 1;
  plane.paths.forEach((p, k) => {
    const off = Math.max(0, ...p.offPlane.filter(Number.isFinite));
    const onPlane = off <= 0.05 * lengthAB;
    series.push({
      id: `plane|path|${p.name}`,
      name: onPlane ? p.name : `${p.name} (off the plane by up to ${num(off, 2)})`,
      type: 'line',
      showSymbol: false,
      animation: false,
      color: pathColour(k),
      lineStyle: { width: 2, color: pathColour(k), type: onPlane ? 'solid' : 'dashed', opacity: onPlane ? 1 : 0.6 },
      data: p.x.map((x, i) => [x, p.y[i]]),
      z: 3,
    });
  });
  series.push({
    id: 'plane|points',
    name: 'spanning networks',
    type: 'scatter',
    symbol: 'circle',
    symbolSize: 10,
    animation: false,
    itemStyle: { color: '#ffffff', borderColor: '#000000', borderWidth: 1.5 },
    // Labels above their points, kept inside the plot: beside a point at the plot's edge they covered the y tick labels.
    label: {
      show: true,
      position: 'top',
      distance: 8,
      formatter: '{b}',
      color: text,
      fontWeight: 'bold',
      backgroundColor: theme.labelBackground,
      padding: [2, 4],
      borderRadius: 3,
    },
    labelLayout: { moveOverlap: 'shiftY' },
    data: plane.points.map((pt) => ({ name: pt.label, value: [pt.x, pt.y] })),
    z: 4,
  });
  const fmt = s.quantity === 'loss' ? (v: number) => (useLog ? num(10 ** v, 3) : num(v, 3)) : (v: number) => pct(v, 1);
  return {
    animation: false,
    backgroundColor: 'transparent',
    textStyle: { color: text },
    legend: themedLegend(theme, { type: 'scroll', top: 4, data: series.filter((x) => x['id'] !== 'plane|surface').map((x) => x['name']) }),
    tooltip: { trigger: 'item' },
    grid: { left: 64, right: 110, top: 40, bottom: 44 },
    xAxis: themedAxis(theme, {
      type: 'value',
      name: 'along θ_B − θ_A (distance in parameter space)',
      nameLocation: 'middle',
      nameGap: 26,
      min: xs[0]! - dx / 2,
      max: xs[xs.length - 1]! + dx / 2,
      axisLabel: { formatter: (v: number) => num(v, 3), showMinLabel: false, showMaxLabel: false },
      splitLine: { show: false },
    }),
    yAxis: themedAxis(theme, {
      type: 'value',
      name: 'across',
      nameLocation: 'middle',
      nameGap: 44,
      min: ys[0]! - dy / 2,
      max: ys[ys.length - 1]! + dy / 2,
      axisLabel: { formatter: (v: number) => num(v, 3), showMinLabel: false, showMaxLabel: false },
      splitLine: { show: false },
    }),
    visualMap: {
      type: 'continuous',
      seriesIndex: 0,
      dimension: 2,
      min: lo,
      max: hi,
      calculable: true,
      right: 8,
      top: 'middle',
      text: [s.quantity === 'loss' ? (useLog ? 'loss (log)' : 'loss') : 'accuracy', ''],
      textStyle: { color: text },
      formatter: (v: number) => fmt(v),
      inRange: { color: [...VIRIDIS] },
    },
    series,
  };
}
