/**
 * The job worker as the desktop app ships it: electron-vite bundles src-main/jobs/worker.ts and train-worker.ts into
 * out/main/*.cjs. Run an experiment through the job runner on the BUILT worker, with the endpoints trained in the
 * built training processes too (they are found beside the worker, with its extension).
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JobRunner } from '../../src-main/jobs/runner';
import { HistoryStore } from '../../src-main/store/history';
import { tempDir } from '../store/helpers';
import { tinyRecipe } from '../jobs/recipes';

const ROOT = path.resolve(import.meta.dirname, '../..');
const t = tempDir('modelab-built-worker-');
afterAll(() => t.cleanup());

describe('the built job worker (out/main/worker.cjs)', () => {
  it('runs a recipe to the end, endpoints trained in parallel by the built train-worker.cjs', async () => {
    const store = await HistoryStore.open({ db: path.join(t.dir, 'history.sqlite') });
    const runner = new JobRunner({ store, workerEntry: path.join(ROOT, 'out/main/worker.cjs'), parallelEndpoints: 'on', heartbeatMs: 250 });
    try {
      const recipe = tinyRecipe('built');
      const id = await store.createRun({ name: 'built', preset: null, config: recipe });
      const outcome = await runner.submit(id, { recipe, preset: null, backend: 'wasm' });
      expect(outcome).toMatchObject({ status: 'finished', error: null });
      const d = await store.get(id);
      expect(d.endpoints.map((e) => e.name)).toEqual(['A', 'B']);
      expect(d.paths.map((p) => p.name)).toEqual(['linear', 'theorem1']);
      expect(d.paths.every((p) => p.check.pass)).toBe(true);
    } finally {
      await runner.shutdown();
      await store.close();
    }
  });
});
