/** A diverging run (issue 13 item 0): the job stops at the first non-finite loss and the stored run is failed, with
 *  the reason naming the endpoint and the step — not finished with NaN networks and `loss: null` paths. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRecipe } from '../../src-main/engine/recipe/resolve';
import { JobRunner } from '../../src-main/jobs/runner';
import type { HistoryStore } from '../../src-main/store/history';
import { tempStore } from '../store/helpers';

let store: HistoryStore;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ store, cleanup } = await tempStore());
});
afterAll(async () => cleanup());

describe('a diverging job', () => {
  it('ends failed with the divergence as its reason, and no paths evaluated', async () => {
    const recipe = parseRecipe({
      name: 'diverges',
      dataset: { name: 'gaussian-mixture', classes: 3, dim: 8, train: 300, test: 150, seed: 0 },
      architecture: { type: 'mlp', hidden: [16, 16] },
      training: { optimizer: 'sgd', lr: 1e6, momentum: 0.9, batchSize: 50, steps: 300 },
      paths: [{ type: 'linear', points: 5 }],
    });
    const id = await store.createRun({ name: recipe.name, preset: null, config: recipe });
    const outcome = await new JobRunner({ store }).submit(id, { recipe, preset: null, backend: 'cpu' });
    const reason = /^train [AB] diverged at step \d+: loss (NaN|\+∞|−∞) — lower the learning rate or check the initialisation/;
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toMatch(reason);
    const d = await store.get(id);
    expect(d.status).toBe('failed');
    expect(d.error).toMatch(reason);
    expect(d.paths).toEqual([]);
  }, 120_000);
});
