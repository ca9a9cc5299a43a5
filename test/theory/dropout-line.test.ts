/**
 * The paper's Fig. 2 centre as a recipe path ('dropout-line'): the straight line from a network to one dropped-out
 * version of itself, the version redrawn until it reaches `minAcc` (experiment/dropout-search.ts droppedVersion), with
 * progress reported while it searches.
 */
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/backends';
import { parseRecipe } from '../../src-main/engine/recipe/resolve';
import { runRecipe } from '../../src-main/engine/experiment/run';
import type { ProgressEvent } from '../../src-main/engine/util/progress';

function recipe(minAcc: number, maxTries: number) {
  return parseRecipe({
    name: 'dropout-line',
    seed: 4,
    dataset: { name: 'gaussian-mixture', classes: 3, dim: 12, train: 600, test: 300, seed: 0 },
    architecture: { type: 'mlp', hidden: [32, 32], bias: false },
    training: { optimizer: 'sgd', lr: 0.05, batchSize: 50, epochs: 3 },
    endpoints: [{ name: 'A' }],
    paths: [{ type: 'dropout-line', from: 'A', p: 0.2, minAcc, maxTries, scale: 'rows', points: 11, searchSamples: 300 }],
    evaluation: { trainSamples: null, testSamples: null, batchSize: 256 },
  });
}

describe("the 'dropout-line' path", () => {
  it('starts at the network itself, ends at a version keeping ⌊32·0.8⌋ = 25 units per layer, and reports its search', async () => {
    const backend = await selectBackend('wasm');
    const events: ProgressEvent[] = [];
    const r = await runRecipe(recipe(0, 5), { backend, onEvent: (e) => void (e.kind === 'progress' && events.push(e.progress)) });
    const p = r.paths[0]!;
    expect(p.segments).toHaveLength(1);
    expect(p.points).toHaveLength(11);
    expect(p.check.pass).toBe(true);
    expect(p.points[0]!.train).toEqual(r.endpoints[0]!.train);
    expect(p.points[0]!.test).toEqual(r.endpoints[0]!.test);
    expect(p.construction).toMatchObject({ p: 0.2, scale: 'rows', keptSizes: [25, 25], tries: 1, accepted: true });
    const search = events.filter((e) => e.stage === `dropout-search:${p.name}`);
    expect(search.length).toBeGreaterThan(0);
    expect(search.at(-1)!.done).toBe(search.at(-1)!.total);
  });

  it('an accuracy no draw reaches: every try is made, the best is kept and marked not accepted', async () => {
    const backend = await selectBackend('wasm');
    const events: ProgressEvent[] = [];
    expect(() => recipe(1.01, 3)).toThrow(/paths\.0\.minAcc/); // an accuracy above 1 is bad input
    // minAcc = 1 on a net below 100% training accuracy: valid, and no draw reaches it.
    const r1 = await runRecipe(recipe(1, 3), { backend, onEvent: (e) => void (e.kind === 'progress' && events.push(e.progress)) });
    const p = r1.paths[0]!;
    expect(p.points.at(-1)!.train.acc).toBeLessThan(1);
    expect(p.construction).toMatchObject({ tries: 3, accepted: false });
    expect((p.construction as { searchAcc: number }).searchAcc).toBeLessThan(1);
    const search = events.filter((e) => e.stage === `dropout-search:${p.name}`);
    expect(search.map((e) => e.done)).toEqual([1, 2, 3]);
  });
});
