/** Planning a study: every cell checked to fit, the time estimated from the stored bench, the cells at once. */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { latestBench } from '../../src-main/engine/bench/stored';
import { datasetShape } from '../../src-main/engine/data/shape';
import { estimateTime } from '../../src-main/engine/recipe/estimate';
import type { Recipe } from '../../src-main/engine/recipe/schema';
import { resolveStudy } from '../../src-main/engine/study/expand';
import { loadStudyPreset } from '../../src-main/engine/study/presets';
import { cellsAtOnce, sharedJobEnv } from '../../src-main/jobs/parallelism';
import { planStudy } from '../../src-main/study/coordinator';

const root = path.resolve(import.meta.dirname, '../..');
const home0 = process.env['MODELAB_HOME'];
afterEach(() => {
  process.env['MODELAB_HOME'] = home0;
});

describe('planning a study', () => {
  it('estimates each combination from the stored bench figures, spread over the cells at once', async () => {
    const h = mkdtempSync(path.join(os.tmpdir(), 'modelab-plan-'));
    try {
      cpSync(path.join(root, 'test/fixtures/bench'), path.join(h, 'bench'), { recursive: true });
      process.env['MODELAB_HOME'] = h;
      // The fixture was measured on wasm: asked for by name, as the estimate uses only the run's backend's figures.
      const plan = await planStudy(loadStudyPreset('smoke-study'), { parallel: 2, backend: 'wasm' });
      const figures = latestBench(path.join(h, 'bench'), 'wasm')!;
      const per = plan.cells.map((c) => estimateTime(c.recipe as Recipe, datasetShape((c.recipe as Recipe).dataset)!, figures, os.availableParallelism()).seconds);
      const total = per.reduce((a, b) => a + b, 0);
      expect(plan.estimate).toEqual({ cells: 4, parallel: 2, cellSeconds: total / 4, seconds: total / 2, note: null });
      expect(per[0]).toBeLessThan(per[2]!); // the wider network costs more
    } finally {
      rmSync(h, { recursive: true, force: true });
    }
  });

  it('says why there is no time without bench figures, and defaults to the cores ÷ a cell’s processes', async () => {
    const h = mkdtempSync(path.join(os.tmpdir(), 'modelab-plan-'));
    try {
      process.env['MODELAB_HOME'] = h;
      const plan = await planStudy(loadStudyPreset('smoke-study'), {});
      expect(plan.estimate).toMatchObject({ cells: 4, cellSeconds: null, seconds: null });
      expect(plan.estimate.note).toMatch(/^no timing figures yet for [a-z-]+, the backend this run gets$/);
      expect(plan.estimate.parallel).toBe(Math.min(4, cellsAtOnce(2)));
    } finally {
      rmSync(h, { recursive: true, force: true });
    }
    expect(cellsAtOnce(2, { MODELAB_WORKERS: '8' })).toBe(4);
    expect(cellsAtOnce(3, { MODELAB_WORKERS: '2' })).toBe(1);
    expect(sharedJobEnv(3, { MODELAB_WORKERS: '8' })['MODELAB_WORKERS']).toBe('2');
  });

  it('refuses a cell that cannot fit this machine, naming the cell, before anything starts', async () => {
    const s = resolveStudy(
      {
        base: { config: { name: 'big', dataset: { name: 'gaussian-mixture', classes: 2, dim: 4, train: 100, test: 50 }, architecture: { type: 'mlp', hidden: [8] }, training: { epochs: 1 } } },
        axes: [{ field: 'architecture.hidden', values: [[8], [1e11]] }],
      },
      'test',
    );
    await expect(planStudy(s, { parallel: 1 })).rejects.toThrow(/^study big cell 1 \(architecture\.hidden=\[100000000000\]\): .*memory/);
  });
});
