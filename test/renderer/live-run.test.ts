/**
 * The live run page folds the run's events with the engine's reducer (engine/experiment/run-so-far.ts), starting from
 * what the history stored; the live training chart takes each logged step from the progress event that moves the step
 * counter, ahead of the curve batch.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { CurvePoint, ProgressEvent } from '../../src-renderer/src/api/types';
import { liveCurves, progressCurvePoint } from '../../src-renderer/src/views/live-curve';
import { finishedStages, storedRunSoFar, told } from '../../src-renderer/src/views/run-view';
import { selectBackend } from '../../src-main/engine/backend/backends';
import type { RunEvent } from '../../src-main/engine/experiment/events';
import { applyRunEvent, emptyRun, mergeCurve } from '../../src-main/engine/experiment/run-so-far';
import { runRecipe } from '../../src-main/engine/experiment/run';
import { parseRecipe } from '../../src-main/engine/recipe/resolve';

const pt = (step: number, loss = 1 / step): CurvePoint => ({ step, epoch: step / 10, lr: 0.05, loss, acc: 0.5 });
const progress = (stage: string, done: number, metrics?: Record<string, number>): ProgressEvent => ({ stage, label: stage, done, total: 100, unit: 'steps', elapsedSec: 1, metrics });

describe('live training curve', () => {
  it('reads the curve point of a logged training step from its progress event, and nothing from heartbeats or other stages', () => {
    expect(progressCurvePoint(progress('train:A', 30, { loss: 0.4, acc: 0.8, lr: 0.05, epoch: 3, samplesPerSec: 900 }))).toEqual({
      endpoint: 'A',
      point: { step: 30, epoch: 3, lr: 0.05, loss: 0.4, acc: 0.8 },
    });
    expect(progressCurvePoint(progress('train:A', 31, { lr: 0.05, epoch: 3.1, samplesPerSec: 900 }))).toBeNull();
    expect(progressCurvePoint(progress('path:linear', 5, { loss: 0.4, acc: 0.8, lr: 0, epoch: 0 }))).toBeNull();
  });

  it('merges curve points by step, in order, a point at a step already there replacing it, into a new curve', () => {
    const curve = [pt(10), pt(20)];
    const merged = mergeCurve(mergeCurve(curve, [{ ...pt(40), loss: 9 }, pt(30)]), [pt(40), pt(50)]);
    expect(merged.map((p) => p.step)).toEqual([10, 20, 30, 40, 50]);
    expect(merged[3]!.loss).toBe(pt(40).loss);
    expect(curve.map((p) => p.step)).toEqual([10, 20]);
  });

  it("draws the latest training progress point ahead of the curve, and the curve's own copy once it came", () => {
    const metrics = (step: number) => ({ loss: 7, acc: 0.9, lr: 0.05, epoch: step / 10 });
    let run = applyRunEvent(emptyRun, { kind: 'curve', endpoint: 'A', points: [pt(10), pt(20)] });
    run = applyRunEvent(run, { kind: 'progress', progress: progress('train:A', 30, metrics(30)) });
    run = applyRunEvent(run, { kind: 'progress', progress: progress('train:B', 5, metrics(5)) });
    expect(liveCurves(run)['A']!.map((p) => [p.step, p.loss])).toEqual([[10, pt(10).loss], [20, pt(20).loss], [30, 7]]);
    expect(liveCurves(run)['B']!.map((p) => p.step)).toEqual([5]);
    run = applyRunEvent(run, { kind: 'curve', endpoint: 'A', points: [pt(30)] });
    expect(liveCurves(run)['A']!.map((p) => [p.step, p.loss])).toEqual([[10, pt(10).loss], [20, pt(20).loss], [30, pt(30).loss]]);
  });
});

describe('live run page', () => {
  let events: RunEvent[] = [];
  beforeAll(async () => {
    const recipe = parseRecipe({
      name: 'live',
      seed: 1,
      dataset: { name: 'gaussian-mixture', classes: 3, dim: 6, train: 90, test: 30, seed: 0 },
      architecture: { type: 'mlp', hidden: [6] },
      training: { optimizer: 'sgd', lr: 0.05, batchSize: 30, epochs: 1 },
      paths: [{ type: 'linear', points: 3 }, { type: 'linear', points: 3 }],
      evaluation: { trainSamples: 60, testSamples: null, batchSize: 500 },
    });
    await runRecipe(recipe, { backend: await selectBackend('cpu'), onEvent: (e) => void events.push(e) });
    events = JSON.parse(JSON.stringify(events)) as RunEvent[]; // as the page receives them
  }, 60_000);

  it("opened mid-run, shows what the history stored and then each event, as the run's own fold does", () => {
    const whole = events.reduce(applyRunEvent, emptyRun);
    // The history has the first endpoint and the curves so far when the page opens; the rest comes as events.
    const cut = events.findIndex((e) => e.kind === 'endpoint' && e.index === 1);
    const atOpen = events.slice(0, cut).reduce(applyRunEvent, emptyRun);
    const config = whole.start!.config;
    let page = storedRunSoFar({ config, endpoints: atOpen.endpoints, curves: atOpen.curves, stability: null, paths: [], plane: null });
    expect(finishedStages(page, 'running')).toEqual(['train:A']);
    for (const e of events.slice(cut)) page = applyRunEvent(page, e);
    expect(page.plan).toEqual(whole.plan);
    expect(told(page.endpoints)).toEqual(whole.endpoints);
    expect(told(page.paths).map((p) => p.name)).toEqual(['linear', 'linear-2']);
    expect(page.curves).toEqual(whole.curves);
    expect(Object.keys(whole.curves)).toEqual(['A', 'B']);
    expect(whole.curves['A']).toEqual(whole.endpoints[0]!.training.curve);
    expect(finishedStages(page, 'finished')).toEqual(expect.arrayContaining(['train:A', 'train:B', 'path:linear', 'path:linear-2']));
    // The plan event names the stages the page shows; progress came for each of them.
    expect(Object.keys(whole.progress)).toEqual(expect.arrayContaining(whole.plan!.stages.map((s) => s.stage)));
  });
});
