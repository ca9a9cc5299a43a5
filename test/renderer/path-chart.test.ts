/** The path chart's ECharts option: asserted on the option object, not on pixels. */
import { describe, expect, it } from 'vitest';
import { type PathChartSettings, barrierBase, barrierRows, buildPathChartOption, pathTooltip, segmentBands, valueAt } from '../../src-renderer/src/charts/path-chart';
import { PALETTE, assignRunColours, hashString, runColour, runShades } from '../../src-renderer/src/charts/palette';
import { contrastRatio, DARK } from '../../src-renderer/src/charts/theme';
import { linear, theorem1 } from './fixtures';

type Series = { id: string; name: string; type: string; data: unknown[]; color?: string; lineStyle?: { type: string }; markPoint?: { data: { coord: number[]; barrier: { metric: string; t: number; value: number; path: string } }[] }; markLine?: { data: { coord: number[] }[][] }; markArea?: { data: { xAxis: number }[][] } };
type Opt = { series: Series[]; yAxis: { type: string; name: string }; xAxis: { min: number; max: number; name: string }; dataZoom?: { type: string }[]; legend: { data: unknown[] } };

const RUN: { id: string; name: string; colour: string | null; paths: typeof linear[] } = { id: '01runaaaaaaaaaaa', name: 'smoke', colour: null, paths: [linear, theorem1] };
const base: PathChartSettings = { quantity: 'loss', splits: ['train', 'test'], barrier: { metric: 'lossOverInterpolation', split: 'train' }, logY: false, colourBy: 'path', shadePath: 'theorem1' };
const build = (s: Partial<PathChartSettings> = {}, runs = [RUN]): Opt => buildPathChartOption(runs, { ...base, ...s }) as unknown as Opt;

describe('path chart option', () => {
  it('has one line per path and split (train solid, test dashed), t on x in [0, 1], colour per path', () => {
    const o = build();
    const lines = o.series.filter((s) => s.type === 'line' && !s.id.startsWith('segments'));
    expect(lines.map((s) => s.id)).toEqual([`${RUN.id}|linear|train`, `${RUN.id}|linear|test`, `${RUN.id}|theorem1|train`, `${RUN.id}|theorem1|test`]);
    expect(lines[0]!.data).toEqual(linear.points.map((p) => [p.t, p.train.loss]));
    expect(lines[1]!.data).toEqual(linear.points.map((p) => [p.t, p.test.loss]));
    expect(lines[0]!.lineStyle!.type).toBe('solid');
    expect(lines[1]!.lineStyle!.type).toBe('dashed');
    expect(lines[0]!.color).toBe(PALETTE[0]);
    expect(lines[2]!.color).toBe(PALETTE[1]);
    expect(o.xAxis).toMatchObject({ min: 0, max: 1, name: 't' });
    expect(o.yAxis.type).toBe('value');
    expect(lines.every((s) => (s as unknown as { showSymbol: boolean; sampling: string; animation: boolean }).showSymbol === false)).toBe(true);
    expect((lines[0] as unknown as { sampling: string }).sampling).toBe('lttb');
  });

  it('annotates each path’s barrier at its t with its value, a dotted bar from the chord up to the curve', () => {
    const o = build();
    for (const p of [linear, theorem1]) {
      const s = o.series.find((x) => x.id === `${RUN.id}|${p.name}|train`)!;
      const mp = s.markPoint!.data[0]!;
      const b = p.barrier.train.lossOverInterpolation;
      expect(mp.coord[0]).toBe(b.t);
      expect(mp.coord[1]).toBeCloseTo(valueAt(p.points, b.t, 'train', 'loss')!, 12);
      expect(mp.barrier).toMatchObject({ metric: 'lossOverInterpolation', value: b.value, path: p.name });
      const [from, to] = s.markLine!.data[0]!;
      expect(from!.coord[1]).toBeCloseTo(barrierBase(p.points, 'lossOverInterpolation', 'train', b.t)!, 12);
      // The bar's length is the barrier.
      expect(to!.coord[1]! - from!.coord[1]!).toBeCloseTo(b.value, 9);
      // Test series carry no annotation when the barrier is on train.
      expect(o.series.find((x) => x.id === `${RUN.id}|${p.name}|test`)!.markPoint).toBeUndefined();
    }
    // The metric selector: error metrics go to the accuracy chart; the loss chart has none then.
    const err = build({ barrier: { metric: 'errorOverInterpolation', split: 'train' } });
    expect(err.series.some((s) => s.markPoint)).toBe(false);
    const acc = build({ quantity: 'acc', barrier: { metric: 'errorOverInterpolation', split: 'train' } });
    expect(acc.series.filter((s) => s.markPoint)).toHaveLength(2);
    expect(acc.yAxis.name).toBe('accuracy');
    // On the test split.
    const test = build({ barrier: { metric: 'lossOverInterpolation', split: 'test' } });
    expect(test.series.find((x) => x.id === `${RUN.id}|linear|test`)!.markPoint!.data[0]!.barrier.value).toBe(linear.barrier.test.lossOverInterpolation.value);
  });

  it('shades the segments of the chosen path by kind, one legend entry per kind, boundaries at s/S', () => {
    const o = build();
    const shades = o.series.filter((s) => s.id.startsWith('segments|'));
    expect(shades.map((s) => s.id).sort()).toEqual(['segments|a', 'segments|b', 'segments|c']);
    expect(o.legend.data).toEqual(
      expect.arrayContaining(['a: top-layer move', 'b: dead-row rewrite', 'c: duplicate-column move'].map((name) => ({ name, icon: 'rect' }))),
    );
    const a = shades.find((s) => s.id === 'segments|a')!.markArea!.data;
    expect(a.map(([l, r]) => [l!.xAxis, r!.xAxis])).toEqual([
      [0.25, 0.5],
      [0.75, 1],
    ]);
    expect(segmentBands(theorem1).map((b) => b.t0)).toEqual([0, 0.25, 0.5, 0.75]);
    // A one-segment straight line is not shaded; no path: no shading.
    expect(build({ shadePath: 'linear' }).series.some((s) => s.id.startsWith('segments|'))).toBe(false);
    expect(build({ shadePath: null }).series.some((s) => s.id.startsWith('segments|'))).toBe(false);
  });

  it('marks the endpoints at t = 0 and 1; log scale; zoom; splits and paths can be left out', () => {
    const o = build();
    const ends = o.series.find((s) => s.id === `${RUN.id}|endpoints`)!;
    expect(ends.type).toBe('scatter');
    // Labels grow into the plot, away from the y tick labels at t = 0.
    expect(ends.data).toEqual([
      { name: 'θ_A', value: [0, linear.points[0]!.train.loss], label: { align: 'left' } },
      { name: 'θ_B', value: [1, linear.points.at(-1)!.train.loss], label: { align: 'right' } },
    ]);
    expect(build({ logY: true }).yAxis.type).toBe('log');
    expect(o.dataZoom!.map((z) => z.type)).toEqual(['inside', 'slider']);
    expect(build({ zoom: false }).dataZoom).toBeUndefined();
    expect(build({ splits: ['test'] }).series.filter((s) => s.id.endsWith('|train'))).toHaveLength(0);
    expect(build({ paths: ['theorem1'] }).series.filter((s) => s.id.includes('|linear|'))).toHaveLength(0);
  });

  it('writes non-finite values as gaps', () => {
    const broken = { ...linear, points: linear.points.map((p, i) => (i === 3 ? { ...p, train: { loss: Number.NaN, acc: Number.NaN } } : p)) };
    const o = build({}, [{ ...RUN, paths: [broken] }]);
    expect((o.series[0]!.data[3] as unknown[])[1]).toBe('-');
  });

  it('compares runs: every run’s paths, each run in its own stable colour', () => {
    const other = { id: '01runbbbbbbbbbbb', name: 'other', colour: '#123456', paths: [linear, theorem1] };
    const o = build({ colourBy: 'run', shadePath: null }, [RUN, other]);
    const lines = o.series.filter((s) => s.type === 'line');
    expect(lines).toHaveLength(8);
    // The first path in the run's own colour, the next in a lighter shade of it.
    expect(lines.find((s) => s.id === `${other.id}|linear|train`)!.color).toBe('#123456');
    expect(lines.find((s) => s.id === `${RUN.id}|linear|train`)!.color).toBe(runColour(RUN));
    expect(lines.find((s) => s.id === `${other.id}|theorem1|train`)!.color).toBe(runShades('#123456', 2)[1]);
    expect(lines.find((s) => s.id === `${other.id}|linear|train`)!.name).toBe('other · linear · train');
    // Stable: the colour comes from the id alone.
    expect(runColour({ id: RUN.id })).toBe(PALETTE[hashString(RUN.id) % PALETTE.length]);
    expect(runColour({ id: RUN.id, colour: '#ff0000' })).toBe('#ff0000');
  });

  it('compares runs that share a stored colour in pairwise different colours, paths told apart by marker', () => {
    const runs = ['01runaaaaaaaaaaa', '01runbbbbbbbbbbb', '01runcccccccccccc'].map((id, i) => ({ id, name: `r${i}`, colour: '#4477aa', paths: [linear, theorem1] }));
    const o = build({ colourBy: 'run', shadePath: null }, runs);
    const colourOf = (id: string, path: string): string => o.series.find((s) => s.id === `${id}|${path}|train`)!.color!;
    expect(new Set(runs.map((r) => colourOf(r.id, 'linear'))).size).toBe(3);
    // The first keeps its stored colour; the chart and the view's dots use the same assignment.
    expect(colourOf(runs[0]!.id, 'linear')).toBe('#4477aa');
    const assigned = assignRunColours(runs);
    for (const r of runs) expect(colourOf(r.id, 'linear')).toBe(assigned.get(r.id));
    const symbol = (id: string, path: string): unknown => (o.series.find((s) => s.id === `${id}|${path}|train`) as unknown as { symbol: string }).symbol;
    expect(symbol(runs[0]!.id, 'linear')).not.toBe(symbol(runs[0]!.id, 'theorem1'));
  });

  it('shows every path in the tooltip at any t, interpolating between evaluated points (and saying so)', () => {
    // linear has 11 points (t = k/10), a second path 5 (t = k/4): at t = 0.3 only linear has a point.
    const coarse = { ...theorem1, name: 'coarse', points: theorem1.points.filter((_, i) => i % 5 === 0) };
    const o = buildPathChartOption([{ ...RUN, paths: [linear, coarse] }], { ...base, shadePath: null }) as unknown as { tooltip: { formatter: (p: unknown) => string } };
    const html = o.tooltip.formatter([{ axisValue: 0.3 }]);
    expect(html).toContain('t = 0.300');
    for (const name of ['linear · train', 'linear · test', 'coarse · train', 'coarse · test']) expect(html).toContain(name);
    const expected = valueAt(coarse.points, 0.3, 'train', 'loss')!;
    expect(html).toContain(`coarse · train: <b>≈ ${Number(expected.toPrecision(4))}</b>`);
    expect(html).toContain(`linear · train: <b>${Number(valueAt(linear.points, 0.3, 'train', 'loss')!.toPrecision(4))}</b>`);
    expect(html).toContain('linear interpolation');
    // Names are user input: escaped.
    expect(pathTooltip([{ name: '<img src=x>', colour: '#000000', split: 'train', points: linear.points }], 0.5, 'loss')).not.toContain('<img');
  });

  it('draws a proven loss bound as a labelled line on the loss chart only', () => {
    const bounded = { ...theorem1, check: { ...theorem1.check, lossBound: { maxTrainLoss: 0.6, t: 0.5, bound: 0.9, epsilon: 0.2, formula: 'L + ε', pass: true } } };
    const o = build({}, [{ ...RUN, paths: [linear, bounded] }]);
    const line = o.series.find((s) => s.id === `${RUN.id}|theorem1|bound`) as unknown as { data: number[][]; markLine: { data: { yAxis: number }[]; label: { formatter: string } } };
    expect(line.data).toEqual([
      [0, 0.9],
      [1, 0.9],
    ]);
    expect(line.markLine.data).toEqual([{ yAxis: 0.9 }]);
    expect(line.markLine.label.formatter).toBe('theorem1 loss bound 0.9');
    expect(o.legend.data).toContain('theorem1 · loss bound');
    expect(build({ quantity: 'acc' }, [{ ...RUN, paths: [linear, bounded] }]).series.some((s) => s.id.endsWith('|bound'))).toBe(false);
    expect(o.series.some((s) => s.id === `${RUN.id}|linear|bound`)).toBe(false);
    // A bound over part of the path says which part.
    const part = { ...bounded, check: { ...bounded.check, lossBound: { ...bounded.check.lossBound, over: 'segments 2–12 (Lemma 2)' } } };
    const partLine = build({}, [{ ...RUN, paths: [part] }]).series.find((s) => s.id === `${RUN.id}|theorem1|bound`) as unknown as { markLine: { label: { formatter: string } } };
    expect(partLine.markLine.label.formatter).toBe('theorem1 loss bound 0.9 over segments 2–12 (Lemma 2)');
  });

  it('zooms with the y axis refitting to the visible data; a zoomed axis end is labelled only when round', () => {
    const o = build() as unknown as { dataZoom: { filterMode: string }[]; xAxis: { axisLabel: { formatter: (v: number) => string } } };
    expect(o.dataZoom.map((z) => z.filterMode)).toEqual(['filter', 'filter']);
    const label = o.xAxis.axisLabel.formatter;
    expect(label(0.1418)).toBe('');
    expect(label(0.7628)).toBe('');
    expect(label(0.15)).toBe('0.15');
    expect(label(0)).toBe('0');
    expect(label(1)).toBe('1');
  });

  it('colours its axis labels, names and legend for the dark theme with AA contrast', () => {
    const o = build({ dark: true }) as unknown as { xAxis: { axisLabel: { color: string }; nameTextStyle: { color: string } }; yAxis: { axisLabel: { color: string } }; legend: { textStyle: { color: string } } };
    for (const c of [o.xAxis.axisLabel.color, o.yAxis.axisLabel.color, o.xAxis.nameTextStyle.color, o.legend.textStyle.color]) expect(contrastRatio(c, DARK.background)).toBeGreaterThanOrEqual(4.5);
  });

  it('tabulates the six barrier metrics of every path and split', () => {
    const rows = barrierRows([linear, theorem1]);
    expect(rows.map((r) => `${r.path}/${r.split}`)).toEqual(['linear/train', 'linear/test', 'theorem1/train', 'theorem1/test']);
    expect(rows[0]!.values.lossOverInterpolation).toEqual(linear.barrier.train.lossOverInterpolation);
    expect(Object.keys(rows[0]!.values)).toHaveLength(6);
  });
});
