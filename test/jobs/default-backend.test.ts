/**
 * MODELAB_BACKEND sets the default backend of every process that chooses one by default: a request without a name
 * (or 'auto') takes it, a named one keeps its name, `modelab backends` says which it is, and a job process started
 * without a backend computes on it.
 * An unknown name in the variable is a one-line error that names the variable.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/backends';
import { defaultedBackend } from '../../src-main/engine/backend/default';
import { JobRunner } from '../../src-main/jobs/runner';
import type { HistoryStore } from '../../src-main/store/history';
import { bin, modelab, root } from '../cli/modelab';
import { tempStore } from '../store/helpers';
import { tinyRecipe } from './recipes';

describe('the default backend', () => {
  it('is MODELAB_BACKEND for a request without a name or auto; a named request keeps its name', () => {
    const env = { MODELAB_BACKEND: 'wasm' };
    expect(defaultedBackend(undefined, env)).toBe('wasm');
    expect(defaultedBackend('auto', env)).toBe('wasm');
    expect(defaultedBackend('cpu', env)).toBe('cpu');
    expect(defaultedBackend('cpu', {})).toBe('cpu');
    // Unset, blank or 'auto': the automatic order (undefined).
    for (const e of [{}, { MODELAB_BACKEND: ' ' }, { MODELAB_BACKEND: 'auto' }]) expect(defaultedBackend(undefined, e)).toBeUndefined();
  });

  it('modelab backends names the default a run gets, as selectBackend picks it, and where it comes from', async () => {
    const forced = spawnSync(process.execPath, [bin, 'backends'], { cwd: root, encoding: 'utf8', env: { ...process.env, MODELAB_BACKEND: 'cpu' } });
    expect(forced.stdout).toMatch(/^default: cpu \(MODELAB_BACKEND\)$/m);
    // In this test run's environment (MODELAB_BACKEND forced or not): the same backend as this process selects.
    const here = await modelab(['backends']);
    const chosen = (await selectBackend()).backend;
    expect(here.stdout).toMatch(new RegExp(`^default: ${chosen} \\((MODELAB_BACKEND|the first available of .*)\\)$`, 'm'));
  });

  it('an unknown MODELAB_BACKEND is a one-line error naming the variable', () => {
    const r = spawnSync(process.execPath, [bin, 'run', '--preset', 'smoke', '--no-store'], { cwd: root, encoding: 'utf8', env: { ...process.env, MODELAB_BACKEND: 'onnx-tpu' } });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain("unknown backend 'onnx-tpu' (from MODELAB_BACKEND)");
  });

  describe('a job started without a backend', () => {
    let store: HistoryStore;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      ({ store, cleanup } = await tempStore());
    });
    afterAll(async () => cleanup());

    it('computes on the backend MODELAB_BACKEND names in the environment it is started with', async () => {
      const runner = new JobRunner({ store, env: { ...process.env, MODELAB_BACKEND: 'cpu' }, parallelEndpoints: 'off', parallelPoints: 'off' });
      const recipe = tinyRecipe('default backend');
      const id = await store.createRun({ name: recipe.name, preset: null, config: recipe });
      expect(await runner.submit(id, { recipe, preset: null })).toEqual({ runId: id, status: 'finished', error: null });
      expect((await store.get(id)).environment).toMatchObject({ backend: 'cpu' });
    });
  });
});
