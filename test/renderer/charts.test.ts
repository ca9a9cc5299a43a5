/** Training, stability and plane chart options; the SVG export (ECharts' SVG renderer in SSR mode, here in Node). */
import { describe, expect, it } from 'vitest';
import { exportOption, renderSvg } from '../../src-renderer/src/charts/export';
import { buildPathChartOption } from '../../src-renderer/src/charts/path-chart';
import { buildPlaneOption } from '../../src-renderer/src/charts/plane';
import { buildNarrowOption, buildNoiseHistogramOption, buildPerLayerOption, buildSweepOption, errorBarSeries } from '../../src-renderer/src/charts/stability';
import { buildTrainingOption, smooth, trainingSeries } from '../../src-renderer/src/charts/training';
import type { DropoutStability } from '../../src-main/engine/theory/dropout-stability';
import type { NoiseStability, Distribution } from '../../src-main/engine/theory/noise-stability';
import { linear, plane, theorem1 } from './fixtures';

type S = { id: string; type: string; name: string; data: unknown[]; yAxisIndex?: number; xAxisIndex?: number; renderItem?: (...a: unknown[]) => unknown; lineStyle?: { type?: string; opacity?: number } };
const series = (o: Record<string, unknown>): S[] => o['series'] as S[];

describe('training curves', () => {
  const curves = {
    A: [1, 2, 3, 4].map((k) => ({ step: k * 10, epoch: k / 2, lr: 0.1, loss: 2 / k, acc: 0.5 + k / 10 })),
    B: [1, 2].map((k) => ({ step: k * 10, epoch: k / 2, lr: 0.1, loss: 3 / k, acc: 0.4 + k / 10 })),
  };

  it('smooths with a debiased EMA (no pull towards zero), keeps gaps, and 0 leaves the data alone', () => {
    expect(smooth([5, 5, 5], 0.9)).toEqual([5, 5, 5].map(() => expect.closeTo(5, 12)));
    expect(smooth([1, null, 3], 0)).toEqual([1, null, 3]);
    const s = smooth([1, Number.NaN, 3], 0.5);
    expect(s[1]).toBeNull();
    expect(s[0]).toBeCloseTo(1, 12);
    expect(s[2]).toBeCloseTo((0.5 * 0.5 * 1 + 0.5 * 3) / (1 - 0.25), 12);
  });

  it('draws loss above and accuracy below, per endpoint, raw series faint behind the smoothed ones', () => {
    const o = buildTrainingOption(curves, { smoothing: 0.6, x: 'step', logY: false });
    const ids = series(o).map((s) => s.id);
    expect(ids).toEqual(['A|loss|raw', 'A|acc|raw', 'A|loss', 'A|acc', 'B|loss|raw', 'B|acc|raw', 'B|loss', 'B|acc']);
    const raw = series(o).find((s) => s.id === 'A|loss|raw')!;
    expect(raw.data).toEqual(curves.A.map((p) => [p.step, p.loss]));
    expect(raw.lineStyle!.opacity).toBeLessThan(0.5);
    expect(series(o).find((s) => s.id === 'A|acc')!.xAxisIndex).toBe(1);
    const epochs = trainingSeries(curves, { smoothing: 0, x: 'epoch', logY: false });
    expect(epochs.map((s) => s['id'])).toEqual(['A|loss', 'A|acc', 'B|loss', 'B|acc']);
    expect((epochs[0]!['data'] as number[][])[0]![0]).toBe(0.5);
    expect((buildTrainingOption(curves, { smoothing: 0, x: 'step', logY: true })['yAxis'] as { type: string }[])[0]!.type).toBe('log');
  });

  it('draws the test loss and accuracy as dashed lines where the points carry them (older runs: none)', () => {
    const withTest = { A: curves.A.map((p, k) => ({ ...p, testLoss: 2.5 / (k + 1), testAcc: k === 2 ? Number.NaN : 0.45 + k / 10 })), B: curves.B };
    const o = buildTrainingOption(withTest, { smoothing: 0.6, x: 'step', logY: false });
    expect(series(o).map((s) => s.id)).toEqual(['A|loss|raw', 'A|acc|raw', 'A|loss', 'A|acc', 'A|test-loss', 'A|test-acc', 'B|loss|raw', 'B|acc|raw', 'B|loss', 'B|acc']);
    const testLoss = series(o).find((s) => s.id === 'A|test-loss')!;
    expect(testLoss.data).toEqual(withTest.A.map((p) => [p.step, p.testLoss]));
    expect(testLoss.lineStyle).toMatchObject({ type: 'dashed', width: 2 });
    expect(testLoss.yAxisIndex).toBe(0);
    const testAcc = series(o).find((s) => s.id === 'A|test-acc')!;
    expect(testAcc.yAxisIndex).toBe(1);
    expect((testAcc.data as unknown[][])[2]).toEqual([30, '-']);
    expect((o['legend'] as { data: string[] }).data).toContain('A test accuracy');
  });
});

const dist = (median: number): Distribution => ({ n: 10, infinite: 1, min: 0, p05: 0.1, median, p95: 0.9, max: 1, mean: 0.5, histogram: { edges: [0, 0.5, 1], counts: [4, 6] } });

describe('stability charts', () => {
  it('sweep: mean lines with ±1 std error bars (custom series)', () => {
    const o = buildSweepOption({
      masks: 5,
      points: [
        { keepFraction: 0.5, loss: { mean: 0.3, std: 0.05 }, acc: { mean: 0.9, std: 0.01 }, perEndpoint: {} },
        { keepFraction: 0.25, loss: { mean: 0.8, std: 0.1 }, acc: { mean: 0.7, std: 0.02 }, perEndpoint: {} },
      ],
    });
    const s = series(o);
    expect(s.map((x) => `${x.id}:${x.type}`)).toEqual(['sweep|loss:line', 'sweep|loss|err:custom', 'sweep|acc:line', 'sweep|acc|err:custom']);
    expect(s[0]!.data).toEqual([
      [0.25, 0.8],
      [0.5, 0.3],
    ]);
    expect(s[1]!.data).toEqual([
      [0.25, expect.closeTo(0.7, 12), expect.closeTo(0.9, 12)],
      [0.5, expect.closeTo(0.25, 12), expect.closeTo(0.35, 12)],
    ]);
    expect(s[3]!.yAxisIndex).toBe(1);
    // The error bar draws a vertical line with two caps at the data's coordinates.
    const g = errorBarSeries('e', 'e', [[1, 2, 3]], '#000').renderItem as (p: unknown, api: unknown) => { children: { shape: { y1: number; y2: number } }[] };
    const drawn = g({}, { value: (i: number) => [1, 2, 3][i], coord: ([x, y]: number[]) => [x! * 10, y! * 100], style: () => ({}), visual: () => '' });
    expect(drawn.children).toHaveLength(3);
    expect(drawn.children[0]!.shape).toMatchObject({ y1: 200, y2: 300 });
  });

  it('per-layer θ_i losses against each endpoint’s base loss', () => {
    const d = (eps: number): DropoutStability => ({
      keepFraction: 0.5,
      r: 2,
      base: { loss: 0.1, acc: 0.98 },
      epsilon: eps,
      perLayer: [
        { i: 1, train: { loss: 0.2, acc: 0.9 }, excess: 0.1 },
        { i: 2, train: { loss: 0.15, acc: 0.95 }, excess: 0.05 },
      ],
      kept: [[0], [1]],
      chosen: 'random',
      candidates: [],
      searchSamples: 100,
    });
    const o = buildPerLayerOption({ A: d(0.1), B: d(0.2) });
    expect((o['xAxis'] as { data: string[] }).data).toEqual(['θ_1', 'θ_2']);
    expect(series(o).map((s) => s.data)).toEqual([
      [0.2, 0.15],
      [0.2, 0.15],
    ]);
    expect((series(o)[0] as unknown as { markLine: { data: { yAxis: number }[] } }).markLine.data[0]!.yAxis).toBe(0.1);
  });

  it('noise histograms: one series per layer for the chosen quantity, bins as rectangles, fractions of samples', () => {
    const noise: NoiseStability = {
      samples: 10,
      p: 0.5,
      ts: [0],
      iterations: 5,
      layers: [
        { layer: 1, kind: 'dense', layerCushion: dist(0.3), interlayerCushion: dist(0.4) },
        { layer: 2, kind: 'dense', layerCushion: dist(0.6), interlayerCushion: dist(0.7), interlayerSmoothness: dist(2) },
      ],
      definition4: { beta: 1.41, c: 1, d: 3, maxOutputNorm: 10, hMin: 64, minCushionProduct: 0.1, epsilon: 5 },
    };
    const o = buildNoiseHistogramOption(noise, 'layerCushion');
    expect(series(o).map((s) => s.id)).toEqual(['noise|layerCushion|1', 'noise|layerCushion|2']);
    expect(series(o)[0]!.data).toEqual([
      [0, 0.5, 0.4],
      [0.5, 1, 0.6],
    ]);
    expect(series(o)[0]!.name).toContain('1 at ∞');
    expect(series(buildNoiseHistogramOption(noise, 'interlayerSmoothness')).map((s) => s.id)).toEqual(['noise|interlayerSmoothness|2']);
  });

  it('narrow networks, as Fig. 2 (right): train loss and train accuracy against width (log₂ axis), test accuracy dashed', () => {
    const o = buildNarrowOption({ trials: 2, points: [{ width: 4, loss: { mean: 0.5, std: 0.1 }, acc: { mean: 0.8, std: 0.02 }, testAcc: { mean: 0.78, std: 0.03 }, trials: [] }] });
    expect((o['xAxis'] as { type: string; logBase: number }).type).toBe('log');
    expect(series(o).map((s) => s.id)).toEqual(['narrow|loss', 'narrow|loss|err', 'narrow|trainacc', 'narrow|trainacc|err', 'narrow|acc', 'narrow|acc|err']);
    expect(series(o).find((s) => s.id === 'narrow|trainacc')!.data).toEqual([[4, 0.8]]);
    expect(series(o).find((s) => s.id === 'narrow|trainacc|err')!.data).toEqual([[4, 0.78, 0.8200000000000001]]);
    expect(series(o).find((s) => s.id === 'narrow|acc')!.lineStyle!.type).toBe('dashed');
    expect((o['legend'] as { data: string[] }).data).toEqual(['train loss', 'train accuracy', 'test accuracy']);
  });

  it('names the y axes along their middle, clear of the legend above the plot', () => {
    const noise: NoiseStability = { samples: 1, p: 0.5, ts: [0], iterations: 1, layers: [{ layer: 1, kind: 'dense', layerCushion: dist(0.3), interlayerCushion: dist(0.4) }], definition4: { beta: 1, c: 1, d: 2, maxOutputNorm: 1, hMin: 1, minCushionProduct: 1, epsilon: 1 } };
    const y = buildNoiseHistogramOption(noise, 'layerCushion')['yAxis'] as { name: string; nameLocation: string };
    expect(y).toMatchObject({ name: 'fraction of samples', nameLocation: 'middle' });
  });
});

describe('loss plane', () => {
  it('draws the surface cells in plane coordinates, the spanning networks, and every path projected', () => {
    const o = buildPlaneOption(plane, { split: 'train', quantity: 'loss', logColour: true });
    const s = series(o);
    expect(s[0]!.id).toBe('plane|surface');
    expect(s[0]!.data).toHaveLength(9);
    // [x, y, colour value (log10 loss), loss]; a non-finite cell is a gap.
    expect(s[0]!.data[4]).toEqual([5, 3, Math.log10(0.2), 0.2]);
    expect(s[0]!.data[7]).toEqual([5, 7, '-', '-']);
    const vm = o['visualMap'] as { min: number; max: number; dimension: number };
    expect(vm.dimension).toBe(2);
    expect(vm.min).toBeCloseTo(Math.log10(0.2), 12);
    expect(vm.max).toBeCloseTo(Math.log10(3), 12);
    const lin = s.find((x) => x.id === 'plane|path|linear')!;
    expect(lin.data).toEqual([
      [0, 0],
      [5, 0],
      [10, 0],
    ]);
    expect(lin.lineStyle!.type).toBe('solid');
    // 3 ≥ 5 % of ‖θ_B − θ_A‖ = 0.5 off the plane: dashed, and said so.
    const bez = s.find((x) => x.id === 'plane|path|bezier')!;
    expect(bez.lineStyle!.type).toBe('dashed');
    expect(bez.name).toMatch(/off the plane/);
    // Labels above their points (beside them they ran into the lines and, at the plot's edge, the y tick labels).
    expect((s.find((x) => x.id === 'plane|points') as unknown as { label: { position: string } }).label.position).toBe('top');
    expect(s.find((x) => x.id === 'plane|points')!.data).toEqual([
      { name: 'θ_A', value: [0, 0] },
      { name: 'θ_B', value: [10, 0] },
      { name: 'π(θ_B)', value: [4, 6] },
    ]);
    const acc = buildPlaneOption(plane, { split: 'test', quantity: 'acc', logColour: true });
    expect(series(acc)[0]!.data[4]).toEqual([5, 3, 0.94, 0.94]);
  });
});

describe('SVG export', () => {
  it('renders true vector SVG with ECharts’ SVG renderer, without zoom controls, at the visible range', () => {
    const option = buildPathChartOption([{ id: '01runaaaaaaaaaaa', name: 'r', paths: [linear, theorem1] }], {
      quantity: 'loss',
      splits: ['train', 'test'],
      barrier: { metric: 'lossOverInterpolation', split: 'train' },
      logY: false,
      colourBy: 'path',
      shadePath: 'theorem1',
    });
    const out = exportOption(option, { min: 0.2, max: 0.8 }, 'Loss along the paths');
    expect(out['dataZoom']).toEqual([]);
    expect(out['xAxis']).toMatchObject({ min: 0.2, max: 0.8 });
    // No band left where the zoom slider was; the chart's title above the legend and the plot.
    const grid = option['grid'] as { top: number; bottom: number };
    expect(out['grid']).toEqual({ ...grid, bottom: 40, top: grid.top + 28 });
    expect(out['title']).toMatchObject({ text: 'Loss along the paths' });
    expect((out['legend'] as { top: number }).top).toBe((option['legend'] as { top: number }).top + 28);
    const svg = renderSvg(out, 900, 420);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('width="900"');
    expect((svg.match(/<path /g) ?? []).length).toBeGreaterThan(10);
    expect(svg).not.toContain('<image');
    expect(svg).toContain('theorem1 · train');
    expect(svg).toContain('Loss along the paths');
    // The plane (custom series with a visual map) renders too.
    const planeSvg = renderSvg(buildPlaneOption(plane, { split: 'train', quantity: 'loss', logColour: true }), 600, 400);
    expect((planeSvg.match(/<path /g) ?? []).length).toBeGreaterThan(9);
  });
});
