/** What the compare view derives: recipe differences, endpoint metrics side by side, overlaid training curves. */
import { describe, expect, it } from 'vitest';
import { assignRunColours, runShades } from '../../src-renderer/src/charts/palette';
import { compareTrainingOption, endpointMetricRows, flattenRecipe, recipeDiff, runLabels } from '../../src-renderer/src/views/compare-view';

const recipe = (lr: number, extra: Record<string, unknown> = {}) => ({ name: 'r', seed: 1, training: { optimizer: { type: 'sgd', lr }, epochs: 2 }, endpoints: [{ name: 'A' }, { name: 'B' }], ...extra });
const metrics = (loss: number, acc: number) => ({ loss, acc });
const endpoint = (name: string, k: number) => ({ name, seed: k, train: metrics(0.1 * k, 0.9), test: metrics(0.2 * k, 0.8), training: { steps: 100 * k, samples: 0, seconds: 1, samplesPerSec: 1, curve: [] } });
const curve = (k: number) => [1, 2, 3].map((s) => ({ step: s * 10, epoch: s / 3, lr: 0.1, loss: k / s, acc: 0.5 + s / 10 }));

describe('compare view', () => {
  it('lists exactly the recipe fields that differ, with each run’s value ("—" where a recipe lacks the field)', () => {
    expect(flattenRecipe(recipe(0.1)).get('training.optimizer.lr')).toBe(0.1);
    const diff = recipeDiff([recipe(0.1), recipe(0.05, { plane: { steps: 9 } }), recipe(0.1)]);
    expect(diff).toEqual([
      { field: 'training.optimizer.lr', values: ['0.1', '0.05', '0.1'] },
      { field: 'plane.steps', values: ['—', '9', '—'] },
    ]);
    // Arrays compare as a whole.
    expect(recipeDiff([recipe(0.1), { ...recipe(0.1), endpoints: [{ name: 'A' }] }]).map((r) => r.field)).toEqual(['endpoints']);
    expect(recipeDiff([recipe(0.1), recipe(0.1)])).toEqual([]);
  });

  it('puts every endpoint’s train and test loss and accuracy side by side; same-named runs told apart by id', () => {
    const runs = [
      { id: '01aaaaaaaaaaaaaa', name: 'smoke', endpoints: [endpoint('A', 1), endpoint('B', 2)] },
      { id: '01bbbbbbbbbbbbbb', name: 'smoke', endpoints: [endpoint('A', 3)] },
    ];
    const rows = endpointMetricRows(runs as never);
    expect(rows.map((r) => [r.endpoint, r.trainLoss, r.trainAcc, r.testLoss, r.testAcc, r.steps])).toEqual([
      ['A', 0.1, 0.9, 0.2, 0.8, 100],
      ['B', 0.2, 0.9, 0.4, 0.8, 200],
      ['A', 0.30000000000000004, 0.9, 0.6000000000000001, 0.8, 300],
    ]);
    expect(new Set(rows.map((r) => r.run)).size).toBe(2);
    expect(runLabels([{ id: 'x1', name: 'a' }, { id: 'y1', name: 'b' }])).toEqual(new Map([['x1', 'a'], ['y1', 'b']]));
  });

  it('overlays every run’s training curves, each run in shades of its own colour', () => {
    const runs = [
      { id: '01aaaaaaaaaaaaaa', name: 'one', curves: { A: curve(1), B: curve(2) } },
      { id: '01bbbbbbbbbbbbbb', name: 'two', curves: { A: curve(3) } },
    ];
    const colours = assignRunColours(runs);
    const o = compareTrainingOption(runs as never, colours, { smoothing: 0, x: 'step', logY: false });
    const series = o['series'] as { id: string; name: string; color: string; data: unknown[] }[];
    expect(series.map((s) => s.id)).toEqual(['one · A|loss', 'one · A|acc', 'one · B|loss', 'one · B|acc', 'two · A|loss', 'two · A|acc']);
    const one = runShades(colours.get(runs[0]!.id)!, 2);
    expect(series.filter((s) => s.id.startsWith('one · A|')).every((s) => s.color === one[0])).toBe(true);
    expect(series.filter((s) => s.id.startsWith('one · B|')).every((s) => s.color === one[1])).toBe(true);
    expect(series.find((s) => s.id === 'two · A|loss')!.color).toBe(colours.get(runs[1]!.id));
    expect(series.find((s) => s.id === 'two · A|loss')!.data).toEqual([[10, 3], [20, 1.5], [30, 1]]);
  });
});
