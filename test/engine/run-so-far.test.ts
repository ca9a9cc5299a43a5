/**
 * The run document is the fold of the run's events (engine/experiment/run-so-far.ts): folding a real run's events
 * with applyRunEvent gives exactly the document runRecipe / runCounterexample return; before 'done' it is partial.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type BackendRecord, selectBackend } from '../../src-main/engine/backend/backends';
import type { RunEvent } from '../../src-main/engine/experiment/events';
import { applyRunEvent, completedRun, emptyRun } from '../../src-main/engine/experiment/run-so-far';
import { runCounterexample } from '../../src-main/engine/experiment/counterexample-run';
import { parseAnyRecipe, parseRecipe } from '../../src-main/engine/recipe/resolve';
import { runRecipe } from '../../src-main/engine/experiment/run';
import { isCounterexample } from '../../src-main/engine/recipe/schema';

let backend: BackendRecord;
beforeAll(async () => {
  backend = await selectBackend('cpu');
});

describe('applyRunEvent', () => {
  it("folding a training run's events gives the document the run returns", async () => {
    const recipe = parseRecipe({
      name: 'fold',
      seed: 3,
      dataset: { name: 'gaussian-mixture', classes: 3, dim: 8, train: 120, test: 60, seed: 0 },
      architecture: { type: 'mlp', hidden: [8] },
      training: { optimizer: 'sgd', lr: 0.05, batchSize: 40, epochs: 1 },
      stability: { dropout: { masks: 1, searchSamples: 60 } },
      paths: [{ type: 'linear', points: 3 }, { type: 'aligned-linear', points: 3 }],
      plane: { size: 2, trainSamples: 60, testSamples: 60 },
      evaluation: { trainSamples: 90, testSamples: null, batchSize: 500 },
    });
    const events: RunEvent[] = [];
    const doc = await runRecipe(recipe, { backend, onEvent: (e) => void events.push(e) });
    expect(events[0]!.kind).toBe('environment');
    expect(events.at(-1)!.kind).toBe('done');

    let run = emptyRun;
    for (const e of events) {
      expect(completedRun(run), `complete before ${e.kind}`).toBeNull();
      const before = JSON.stringify(run);
      const next = applyRunEvent(run, e);
      expect(JSON.stringify(run), `${e.kind} left the run it was given as it was`).toBe(before);
      run = next;
    }
    expect(run.plan?.paths).toEqual(['linear', 'aligned-linear']);
    // Progress and training curve points are events too: the fold keeps each stage's latest and every endpoint's curve.
    const reported = Object.keys(run.progress);
    // (stability reports per endpoint: 'stability:A', the row of the planned 'stability' stage.)
    for (const { stage } of run.plan!.stages) expect(reported.some((k) => k === stage || k.startsWith(`${stage}:`)), stage).toBe(true);
    for (const e of ['train:A', 'train:B']) expect(run.progress[e]?.done, e).toBe(run.progress[e]?.total);
    expect(doc.endpoints.every((e) => e.training.curve.length > 0)).toBe(true);
    for (const e of doc.endpoints) expect(run.curves[e.name]).toEqual(e.training.curve);
    expect(doc.dataset.evalTrainSize).toBe(90);
    expect(doc.stability).toBeDefined();
    expect(doc.plane).toBeDefined();
    expect(completedRun(run)).toEqual(doc);
    // Same keys in the same order: the folded document serialises as the returned one does.
    expect(JSON.stringify(completedRun(run))).toBe(JSON.stringify(doc));
  }, 120_000);

  it("folding the counterexample's events gives its document (no stability, no plane)", async () => {
    const recipe = parseAnyRecipe({ experiment: 'counterexample', name: 'c', width: 2, points: 5, curves: { steps: 20 } }, 'recipe');
    if (!isCounterexample(recipe)) throw new Error('not the counterexample');
    const events: RunEvent[] = [];
    const doc = await runCounterexample(recipe, { backend, onEvent: (e) => void events.push(e) });
    const run = events.reduce(applyRunEvent, emptyRun);
    expect(run.stability).toBeNull();
    expect(JSON.stringify(completedRun(run))).toBe(JSON.stringify(doc));
  });

  it('a stopped run keeps what it was told, each part at its index', async () => {
    const recipe = parseAnyRecipe({ experiment: 'counterexample', name: 'c', width: 2, points: 5, curves: { steps: 20 } }, 'recipe');
    if (!isCounterexample(recipe)) throw new Error('not the counterexample');
    const events: RunEvent[] = [];
    await runCounterexample(recipe, { backend, onEvent: (e) => void events.push(e) });
    const firstPath = events.findIndex((e) => e.kind === 'path');
    const partial = events.slice(0, firstPath + 1).reduce(applyRunEvent, emptyRun);
    expect(completedRun(partial)).toBeNull();
    expect(partial.finished).toBeNull();
    expect(partial.endpoints.map((e) => e.name)).toEqual(['teacher', 'student']);
    expect(partial.paths.map((p) => p.name)).toEqual(['linear']);
    expect(partial.dataset?.evalTrainSize).toBe(partial.dataset?.trainSize);
    // An endpoint told out of order lands at its own index.
    const second = events.find((e) => e.kind === 'endpoint' && e.index === 1)!;
    expect(applyRunEvent(emptyRun, second).endpoints[1]?.name).toBe('student');
  });
});
