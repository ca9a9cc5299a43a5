/**
 * The environment record is built in one place (store/environment.ts): the job process makes it from the fold of the
 * run's events as they come, the history from the finished document; once the evaluation sets are drawn the two agree.
 */
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/backends';
import type { RunEvent } from '../../src-main/engine/experiment/events';
import { applyRunEvent, emptyRun } from '../../src-main/engine/experiment/run-so-far';
import { endpointSeed, parseRecipe } from '../../src-main/engine/recipe/resolve';
import { runRecipe } from '../../src-main/engine/experiment/run';
import { environmentOf } from '../../src-main/store/environment';

describe('environmentOf', () => {
  it("from the events up to the evaluation sets: the record the finished document gives; before them: the header's", async () => {
    const recipe = parseRecipe({
      name: 'env',
      seed: 5,
      dataset: { name: 'gaussian-mixture', classes: 3, dim: 8, train: 120, test: 60, seed: 0 },
      architecture: { type: 'mlp', hidden: [8] },
      training: { optimizer: 'sgd', lr: 0.05, batchSize: 40, epochs: 1 },
      endpoints: [{ name: 'A' }, { name: 'B' }],
      paths: [{ type: 'linear', points: 3 }],
      evaluation: { trainSamples: 90, testSamples: 30, batchSize: 500 },
    });
    const events: RunEvent[] = [];
    const doc = await runRecipe(recipe, { backend: await selectBackend('cpu'), onEvent: (e) => void events.push(e) });
    const seeds = recipe.endpoints.map((x, i) => ({ name: x.name, seed: endpointSeed(recipe, i) }));
    const upTo = (kind: RunEvent['kind']) => events.slice(0, events.findIndex((e) => e.kind === kind) + 1).reduce(applyRunEvent, emptyRun);

    const early = upTo('environment');
    const first = environmentOf({ ...early.start!, architecture: early.architecture, dataset: early.dataset, endpoints: seeds });
    expect(first).toEqual({ modelab: doc.modelab, backend: 'cpu', device: doc.device, tfjsVersion: doc.tfjsVersion, backendDetails: doc.backendDetails, seeds: { recipe: 5, endpoints: { A: seeds[0]!.seed, B: seeds[1]!.seed }, evaluation: recipe.evaluation.seed } });

    const drawn = upTo('eval-data');
    const live = environmentOf({ ...drawn.start!, architecture: drawn.architecture, dataset: drawn.dataset, endpoints: seeds });
    expect(live.dataset).toMatchObject({ name: 'gaussian-mixture', evalTrainSize: 90, evalTestSize: 30 });
    expect(live).toEqual(environmentOf(doc));
  });
});
