/** Endpoint training in parallel processes gives, seed for seed, the weights of training in this process. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/backends';
import { loadDataset } from '../../src-main/engine/data/load';
import type { EndpointTrainJob } from '../../src-main/engine/experiment/run';
import { endpointSeed, resolveArchitecture, trainingFor } from '../../src-main/engine/recipe/resolve';
import { type CurvePoint, train } from '../../src-main/engine/train/loop';
import { CancelledError } from '../../src-main/engine/util/errors';
import { PARALLEL_MIN_WORK, endpointTrainer, trainingWork, useParallelEndpoints } from '../../src-main/jobs/trainers';
import { loadPreset } from '../../src-main/engine/recipe/presets';
import type { Recipe } from '../../src-main/engine/recipe/schema';
import { longRecipe, tinyRecipe } from './recipes';

let tmp = '';
beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'modelab-trainers-'));
  await selectBackend('wasm');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const bytes = (p: Record<string, { data: Float32Array }>): Record<string, string> =>
  Object.fromEntries(Object.entries(p).map(([k, t]) => [k, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('base64')]));

describe('endpoint trainer', () => {
  it('in parallel processes: the same weights, curves and step counts as in this process', async () => {
    const recipe = tinyRecipe('det', 5);
    const data = loadDataset(recipe.dataset);
    const spec = resolveArchitecture(recipe.architecture, data.inputShape, data.classes);
    const jobs: EndpointTrainJob[] = recipe.endpoints.map((e, i) => ({
      name: e.name,
      seed: endpointSeed(recipe, i),
      config: trainingFor(recipe, i),
      stage: `train:${e.name}`,
      label: `train ${e.name}`,
    }));
    const curves: Record<string, CurvePoint[]> = {};
    const stages = new Set<string>();
    const forked = await endpointTrainer({
      parallel: true,
      backend: 'wasm',
      dataset: recipe.dataset,
      tmpDir: tmp,
    })(jobs, { spec, data, onProgress: (e) => stages.add(e.stage), onCurvePoint: (n, p) => (curves[n] ??= []).push(p) });
    expect(stages).toEqual(new Set(['train:A', 'train:B']));
    for (const [i, j] of jobs.entries()) {
      const local = await train(spec, data, j.config, { seed: j.seed });
      expect(bytes(forked[i]!.params)).toEqual(bytes(local.params));
      expect(forked[i]!.curve).toEqual(local.curve);
      expect(curves[j.name]).toEqual(local.curve);
      expect(forked[i]!.steps).toBe(local.steps);
    }
    expect(readdirSync(tmp)).toEqual([]); // hand-over files removed
  });

  it('cancelling stops the training processes', async () => {
    const recipe = longRecipe();
    const data = loadDataset(recipe.dataset);
    const spec = resolveArchitecture(recipe.architecture, data.inputShape, data.classes);
    const job: EndpointTrainJob = { name: 'A', seed: 1, config: trainingFor(recipe, 0), stage: 'train:A', label: 'train A' };
    const controller = new AbortController();
    const p = endpointTrainer({ parallel: true, backend: 'wasm', dataset: recipe.dataset, tmpDir: tmp })([job, { ...job, name: 'B', seed: 2 }], {
      spec,
      data,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    await expect(p).rejects.toBeInstanceOf(CancelledError);
  });

  it("'auto' means parallel processes when there are several endpoints and cores, and enough work", () => {
    expect(useParallelEndpoints('off', 2)).toBe(false);
    expect(useParallelEndpoints('on', 1)).toBe(false);
    expect(useParallelEndpoints('on', 2)).toBe(true);
    const multi = os.availableParallelism() > 1 && process.env['MODELAB_PARALLEL_ENDPOINTS'] === undefined;
    expect(useParallelEndpoints('auto', 2)).toBe(multi);
    expect(useParallelEndpoints('auto', 2, PARALLEL_MIN_WORK - 1)).toBe(false);
    // The smoke preset trains in the job process; a one-epoch MNIST MLP in two more processes.
    const smoke = loadPreset('smoke') as Recipe;
    const data = loadDataset(smoke.dataset);
    const spec = resolveArchitecture(smoke.architecture, data.inputShape, data.classes);
    const jobs = smoke.endpoints.map((e, i) => ({ name: e.name, seed: 1, config: trainingFor(smoke, i), stage: '', label: '' }));
    expect(trainingWork(jobs, { spec, data })).toBeLessThan(PARALLEL_MIN_WORK);
    const mnistSpec = resolveArchitecture({ type: 'mlp', hidden: [512, 512], bias: true, dropout: 0 }, [28, 28, 1], 10);
    const mnist = { ...data, train: { ...data.train, n: 60000 } };
    expect(trainingWork([{ ...jobs[0]!, config: { ...jobs[0]!.config, epochs: 1, batchSize: 128 } }], { spec: mnistSpec, data: mnist })).toBeGreaterThan(PARALLEL_MIN_WORK);
  });
});
