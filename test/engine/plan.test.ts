/**
 * The run plan (recipe/plan.ts) is what a run does: its path names are the run's, and every planned stage is a stage
 * the run reports (progress events or timings). The renderer shows a run's stages from this plan.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type BackendRecord, selectBackend } from '../../src-main/engine/backend/backends';
import { runCounterexample } from '../../src-main/engine/experiment/counterexample-run';
import { runPlan } from '../../src-main/engine/recipe/plan';
import { parseAnyRecipe, parseRecipe } from '../../src-main/engine/recipe/resolve';
import { runRecipe } from '../../src-main/engine/experiment/run';
import { isCounterexample } from '../../src-main/engine/recipe/schema';

let backend: BackendRecord;
beforeAll(async () => {
  backend = await selectBackend('cpu');
});

describe('runPlan', () => {
  it('a training recipe: the endpoints, the paths by the names the run gives them, and every stage the run reports', async () => {
    const recipe = parseRecipe({
      name: 'plan',
      seed: 2,
      dataset: { name: 'gaussian-mixture', classes: 3, dim: 8, train: 120, test: 60, seed: 0 },
      architecture: { type: 'mlp', hidden: [8] },
      training: { optimizer: 'sgd', lr: 0.05, batchSize: 40, epochs: 1 },
      endpoints: [{ name: 'first' }, { name: 'second' }],
      stability: { dropout: { masks: 1, searchSamples: 60 } },
      paths: [{ type: 'linear', points: 3 }, { type: 'linear', points: 3 }, { type: 'aligned-linear', points: 3 }],
      plane: { size: 2, trainSamples: 60, testSamples: 60 },
      evaluation: { trainSamples: null, testSamples: null, batchSize: 500 },
    });
    const reported = new Set<string>();
    const r = await runRecipe(recipe, { backend, onEvent: (e) => void (e.kind === 'progress' && reported.add(e.progress.stage)) });
    for (const k of Object.keys(r.timings)) reported.add(k);
    const plan = runPlan(recipe);
    expect(plan.endpoints).toEqual(['first', 'second']);
    expect(plan.paths).toEqual(['linear', 'linear-2', 'aligned-linear']);
    expect(r.paths.map((p) => p.name)).toEqual(plan.paths);
    expect(plan.stages.map((s) => s.stage)).toEqual(['train:first', 'train:second', 'stability', 'path:linear', 'path:linear-2', 'path:aligned-linear', 'plane']);
    for (const s of plan.stages) expect(reported, s.stage).toContain(s.stage);
  }, 120_000);

  it("Theorem 4's counterexample: its three paths and the curves' training", async () => {
    const recipe = parseAnyRecipe({ experiment: 'counterexample', name: 'c', width: 2, points: 5, curves: { steps: 20 } }, 'recipe');
    if (!isCounterexample(recipe)) throw new Error('not the counterexample');
    const reported = new Set<string>();
    const r = await runCounterexample(recipe, { backend, onEvent: (e) => void (e.kind === 'progress' && reported.add(e.progress.stage)) });
    for (const k of Object.keys(r.timings)) reported.add(k);
    const plan = runPlan(recipe);
    expect(r.paths.map((p) => p.name)).toEqual(plan.paths);
    expect(r.endpoints.map((e) => e.name)).toEqual(plan.endpoints);
    for (const s of plan.stages) expect(reported, s.stage).toContain(s.stage);
  });

  it('a stored config of any shape gives a plan without throwing', () => {
    expect(runPlan(null).stages.map((s) => s.stage)).toEqual(['train:A', 'train:B']);
    expect(runPlan({ paths: [{ type: 'theorem1' }, { type: 'theorem1', name: 'mine' }, { type: 'theorem1' }] }).paths).toEqual(['theorem1', 'mine', 'theorem1-2']);
  });
});
