/**
 * Jobs with a loss plane and training checkpoints: the plane is stored when it is computed and matches the run in
 * this process; every checkpoint (training.checkpointEvery) reaches the history from the job process or from a
 * training process, the latest of each endpoint kept and the earlier files removed; a job killed with SIGKILL in the
 * middle of training leaves its last checkpoint in the store.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/backends';
import { readCheckpointInfo } from '../../src-main/engine/experiment/export';
import { decodeSafetensors } from '../../src-main/engine/io/safetensors';
import { runRecipe } from '../../src-main/engine/experiment/run';
import type { Recipe } from '../../src-main/engine/recipe/schema';
import { type JobEvent, JobRunner } from '../../src-main/jobs/runner';
import { type HistoryStore, pidAlive } from '../../src-main/store/history';
import type { RecordedRunEvent } from '../../src-main/store/recorded-event';
import { tempStore } from '../store/helpers';
import { longCheckpointRecipe, planeRecipe } from './recipes';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, f: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 60_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

type CheckpointEvent = Extract<RecordedRunEvent, { kind: 'checkpoint' }> & { hash: string };

/** The checkpoint a job event reports, with its stored file's hash and its place among the events. */
const checkpointOf = (e: JobEvent, at = -1): (CheckpointEvent & { at: number })[] =>
  e.type === 'run' && e.event.kind === 'checkpoint' ? [{ ...e.event, hash: e.event.weights.hash, at }] : [];

let store: HistoryStore;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ store, cleanup } = await tempStore());
});
afterAll(async () => cleanup());

async function start(runner: JobRunner, recipe: Recipe): Promise<{ id: string; done: ReturnType<JobRunner['submit']> }> {
  const id = await store.createRun({ name: recipe.name, preset: null, config: recipe });
  return { id, done: runner.submit(id, { recipe, preset: null, backend: 'wasm' }) };
}

/** The checkpoint hashes a finished run of planeRecipe kept, by parallel mode (the same seeds: the same bytes). */
const kept: Record<string, string[]> = {};

describe('a job with a plane and checkpoints', () => {
  for (const parallel of ['off', 'on'] as const) {
    it(`stores the plane and the latest checkpoint of each endpoint (endpoints trained ${parallel === 'on' ? 'in training processes' : 'in the job process'})`, async () => {
      const runner = new JobRunner({ store, parallelEndpoints: parallel });
      const events: JobEvent[] = [];
      runner.on((e) => events.push(e));
      const recipe = planeRecipe();
      const { id, done } = await start(runner, recipe);
      expect(await done).toEqual({ runId: id, status: 'finished', error: null });

      // Epochs 1 and 2 of each endpoint (the end of training is the endpoint itself), each after its curve points.
      const cps = events.flatMap((e, at) => checkpointOf(e, at));
      expect(cps.map((c) => `${c.endpoint}@${c.epoch}/${c.step}`).sort()).toEqual(['A@1/6', 'A@2/12', 'B@1/6', 'B@2/12']);
      for (const c of cps) {
        const curveBefore = events.slice(0, c.at).flatMap((e) => (e.type === 'run' && e.event.kind === 'curve' && e.event.endpoint === c.endpoint ? e.event.points : []));
        // (18 steps, a curve point every step.)
        expect(curveBefore.some((p) => p.step === c.step), `curve of ${c.endpoint} up to step ${c.step} first`).toBe(true);
      }
      const planeEvents = events.flatMap((e) => (e.type === 'run' && e.event.kind === 'plane' ? [e.event] : []));
      expect(planeEvents).toHaveLength(1);

      const d = await store.get(id);
      expect(d.checkpoints).toEqual([
        { endpoint: 'A', epoch: 2, step: 12 },
        { endpoint: 'B', epoch: 2, step: 12 },
      ]);
      expect(d.artifacts.map((a) => a.role)).toEqual(['checkpoint:A', 'checkpoint:B', 'endpoint:A', 'endpoint:B', 'eval-data', 'path:aligned-linear', 'path:linear']);
      // The epoch-1 files were replaced and removed (no run uses them); the epoch-2 ones are the stored ones.
      for (const c of cps) {
        const users = (await store.db.all<{ run_id: string }>('SELECT run_id FROM artifact_refs WHERE hash = ?', [c.hash])).map((r) => r.run_id);
        expect(users.includes(id), `${c.endpoint}@${c.epoch}`).toBe(c.epoch === 2);
        expect(store.artifacts.has(c.hash), `${c.endpoint}@${c.epoch}`).toBe(users.length > 0);
      }
      const endpointNames = Object.keys(decodeSafetensors(store.artifacts.read(d.artifacts.find((a) => a.role === 'endpoint:A')!.hash)).tensors);
      for (const name of ['A', 'B']) {
        const ref = d.artifacts.find((a) => a.role === `checkpoint:${name}`)!;
        const buf = store.artifacts.read(ref.hash);
        expect(readCheckpointInfo(buf)).toEqual({ endpoint: name, epoch: 2, step: 12 });
        expect(Object.keys(decodeSafetensors(buf).tensors)).toEqual(endpointNames.map((k) => k.slice('A.'.length)));
      }
      kept[parallel] = d.artifacts.filter((a) => a.role.startsWith('checkpoint:')).map((a) => a.hash);

      // The plane is the one this process computes for the same recipe on the same backend (but for its wall time).
      const local = await runRecipe(recipe, { backend: await selectBackend('wasm') });
      expect({ ...d.plane!, seconds: 0 }).toEqual(JSON.parse(JSON.stringify({ ...local.plane!, seconds: 0 })));
      expect(d.plane!.seconds).toBeGreaterThan(0);
      expect(planeEvents[0]!.plane).toEqual(d.plane);
    });
  }

  it('training processes give the same checkpoint files as training in the job process', () => {
    expect(kept['on']).toEqual(kept['off']);
  });
});

describe('kill -9 mid-training', () => {
  for (const parallel of ['off', 'on'] as const) {
    it(`of the job process${parallel === 'on' ? ' (endpoints in training processes)' : ''}: crashed, and the last checkpoint of each endpoint is in the store`, async () => {
      const runner = new JobRunner({ store, parallelEndpoints: parallel });
      const endpoints = parallel === 'on' ? ['A', 'B'] : ['A'];
      const cps: CheckpointEvent[] = [];
      runner.on((e) => {
        cps.push(...checkpointOf(e));
      });
      const { id, done } = await start(runner, longCheckpointRecipe(`killed-${parallel}`, endpoints));
      // Two checkpoints of every endpoint: the first has been replaced by then.
      await until('two checkpoints of each endpoint', () => endpoints.every((n) => cps.filter((c) => c.endpoint === n).length >= 2));
      const pid = runner.pidOf(id)!;
      process.kill(pid, 'SIGKILL');
      const outcome = await done;
      expect(outcome.status).toBe('crashed');
      expect(outcome.error).toMatch(/killed by SIGKILL/);
      await until('the job process to be gone', () => !pidAlive(pid), 5000);

      const d = await store.get(id);
      expect(d.status).toBe('crashed');
      expect(d.endpoints).toEqual([]);
      for (const n of endpoints) {
        const mine = cps.filter((c) => c.endpoint === n);
        const last = mine[mine.length - 1]!;
        expect(d.checkpoints.find((c) => c.endpoint === n)).toEqual({ endpoint: n, epoch: last.epoch, step: last.step });
        expect(last.epoch).toBeGreaterThanOrEqual(2);
        expect(last.step).toBe(last.epoch * 125);
        const ref = d.artifacts.find((a) => a.role === `checkpoint:${n}`)!;
        expect(ref.hash).toBe(last.hash);
        expect(existsSync(store.artifacts.pathOf(ref.hash))).toBe(true);
        expect(readCheckpointInfo(store.artifacts.read(ref.hash))).toEqual({ endpoint: n, epoch: last.epoch, step: last.step });
        // Earlier checkpoints are no longer this run's, and their files are gone unless another run uses the same bytes
        // (the same seed trains endpoint A in both of these tests).
        for (const c of mine.slice(0, -1)) {
          const users = (await store.db.all<{ run_id: string }>('SELECT run_id FROM artifact_refs WHERE hash = ?', [c.hash])).map((r) => r.run_id);
          expect(users).not.toContain(id);
          expect(store.artifacts.has(c.hash), `${n}@${c.epoch}, used by ${users.join(', ') || 'no run'}`).toBe(users.length > 0);
        }
        // The curve reaches the checkpoint: its points logged before it (every 60 steps) were sent first.
        expect(d.curves[n]!.at(-1)!.step).toBeGreaterThanOrEqual(Math.floor(last.step / 60) * 60);
      }
      expect(d.artifacts.map((a) => a.role)).toEqual(endpoints.map((n) => `checkpoint:${n}`));
    });
  }
});
