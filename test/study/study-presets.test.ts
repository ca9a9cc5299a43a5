/**
 * The literature study presets (resources/studies/: mnist-mlp-width-barrier, mnist-cnn-fig2, cifar10-vgg11-fig3):
 * each expands, full and --quick, into valid cells that say what they measure; and each one's first cell runs, cut
 * down through the recipe's own fields only (a few steps, tiny data, few points), producing every metric its figure
 * needs as a finite number. A preset that cannot train or build its paths fails here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendRecord, selectBackend } from '../../src-main/engine/backend/backends';
import { runRecipe } from '../../src-main/engine/experiment/run';
import { parseRecipe } from '../../src-main/engine/recipe/resolve';
import type { Recipe } from '../../src-main/engine/recipe/schema';
import { aggregateStudy } from '../../src-main/engine/study/aggregate';
import { type StudyCell, expandStudy, resolveStudy } from '../../src-main/engine/study/expand';
import { parseFieldPath, setField } from '../../src-main/engine/study/field-path';
import { runMetrics } from '../../src-main/engine/study/metrics';
import { listStudyPresets, loadStudyPreset } from '../../src-main/engine/study/presets';
import { writeCifarFolder } from '../engine/cifar-fixture';

/** The cell's recipe with `fields` set (dotted paths), validated again by the recipe schema. */
function cutDown(cell: StudyCell, fields: Record<string, unknown>): Recipe {
  let doc: unknown = cell.recipe;
  for (const [f, v] of Object.entries(fields)) doc = setField(doc, parseFieldPath(f), v);
  return parseRecipe(doc);
}

const finiteMetric = (doc: Parameters<typeof runMetrics>[0], metric: string, split = 'train'): number => {
  const m = runMetrics(doc).find((x) => x.metric === metric && x.split === split);
  expect(m, `${metric} (${split})`).toBeDefined();
  expect(Number.isFinite(m!.value), `${metric} (${split}) = ${m!.value}`).toBe(true);
  return m!.value!;
};

let backend: BackendRecord;
beforeAll(async () => {
  backend = await selectBackend('wasm');
});

describe('literature study presets', () => {
  it('are listed with descriptions that say what --quick reduces', () => {
    const listed = listStudyPresets();
    for (const name of ['mnist-mlp-width-barrier', 'mnist-cnn-fig2', 'cifar10-vgg11-fig3']) {
      const p = listed.find((x) => x.name === name);
      expect(p?.description).toMatch(/--quick/);
    }
  });

  it('mnist-mlp-width-barrier: widths 32…1024 × 3 trials, bias-free, naive, matched and Theorem 1 paths; --quick 3 widths', () => {
    const full = expandStudy(loadStudyPreset('mnist-mlp-width-barrier'));
    expect(full).toHaveLength(18);
    expect([...new Set(full.map((c) => JSON.stringify(c.settings[0]!.value)))]).toEqual(['[32]', '[64]', '[128]', '[256]', '[512]', '[1024]']);
    for (const c of full) {
      const r = c.recipe as Recipe;
      expect(r.architecture.type === 'mlp' && r.architecture.bias).toBe(false);
      expect(r.paths.map((p) => `${p.name}:${p.type}`)).toEqual(['naive:linear', 'matched:aligned-linear', 'theorem1:theorem1']);
    }
    const quick = expandStudy(loadStudyPreset('mnist-mlp-width-barrier', { quick: true }));
    expect(quick.map((c) => c.label)).toEqual(['[32]', '[32]', '[32]', '[128]', '[128]', '[128]', '[512]', '[512]', '[512]'].map((w) => `architecture.hidden=${w}`));
    const q = quick[0]!.recipe as Recipe;
    expect(q.training.epochs).toBe(1);
    expect([q.evaluation.trainSamples, q.evaluation.testSamples]).toEqual([2000, 2000]);
  });

  it('mnist-cnn-fig2: the paper preset’s CNN, one network per trial, 5 trials; sweep, centre line, narrow widths 1…10', () => {
    for (const quick of [false, true]) {
      const cells = expandStudy(loadStudyPreset('mnist-cnn-fig2', { quick }));
      expect(cells).toHaveLength(5);
      const r = cells[0]!.recipe as Recipe;
      expect(r.architecture.type === 'cnn' && r.architecture.conv.map((c) => c.filters)).toEqual([32, 32, 32]);
      expect(r.endpoints.map((e) => e.name)).toEqual(['A']);
      expect(r.paths.map((p) => p.type)).toEqual(['dropout-line']);
      expect(r.stability?.sweep?.fractions).toHaveLength(10);
      expect(r.stability?.sweep?.masks).toBe(quick ? 5 : 20);
      expect(r.stability?.narrow?.widths).toEqual([1, 2, 4, 6, 8, 10]);
      expect(r.training.steps).toBe(quick ? 1000 : 5000);
      expect(r.evaluation.trainSamples).toBe(quick ? 1024 : 4096);
    }
  });

  it('"set" writes fields of the base preset before the axes; an unknown field is one line naming it', () => {
    const s = resolveStudy({ base: { preset: 'smoke' }, set: [{ field: 'training.lr', value: 0.01 }], trials: 1 }, 'test');
    expect((expandStudy(s)[0]!.recipe as Recipe).training.lr).toBe(0.01);
    expect(s.set).toBeUndefined();
    expect(() => resolveStudy({ base: { preset: 'smoke' }, set: [{ field: 'training.nope.x', value: 1 }] }, 'test')).toThrow(/^unknown field 'training\.nope\.x'/);
  });

  it('cifar10-vgg11-fig3: VGG-11 pairs with noise stability, the Theorem 3 path and the 10-point line; --quick 30 epochs, 2 trials', () => {
    const full = expandStudy(loadStudyPreset('cifar10-vgg11-fig3'));
    const quick = expandStudy(loadStudyPreset('cifar10-vgg11-fig3', { quick: true }));
    expect([full.length, quick.length]).toEqual([3, 2]);
    const r = full[0]!.recipe as Recipe;
    expect(r.paths.map((p) => p.type)).toEqual(['linear', 'theorem3']);
    expect(r.stability?.noise?.samples).toBe(128);
    expect([r.training.epochs, (quick[0]!.recipe as Recipe).training.epochs]).toEqual([300, 30]);
  });
});

describe('each preset’s cells run, cut down to a few steps on tiny data', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'modelab-study-presets-'));
    writeCifarFolder(dir, { train: 24, test: 16, seed: 5 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('mnist-mlp-width-barrier: two trials give every path’s barrier, aggregated as mean ± std', async () => {
    const cells = expandStudy(loadStudyPreset('mnist-mlp-width-barrier', { quick: true })).slice(0, 2);
    const outcomes = [];
    for (const c of cells) {
      const recipe = cutDown(c, {
        'dataset.train': 256,
        'dataset.test': 128,
        'training.epochs': 1,
        'evaluation.trainSamples': 128,
        'evaluation.testSamples': 128,
        'paths[0].points': 3,
        'paths[1].points': 3,
        'paths[2].perSegment': 1,
        'paths[2].dropout': { keepFraction: 0.5, masks: 1, searchSamples: 64 },
      });
      const doc = await runRecipe(recipe, { backend });
      for (const p of ['naive', 'matched', 'theorem1']) for (const split of ['train', 'test']) finiteMetric(doc, `path.${p}.lossOverEndpointMean`, split);
      outcomes.push({ index: c.index, group: c.group, trial: c.trial, settings: c.settings, runId: `r${c.index}`, doc });
    }
    // Different seeds: the two trials differ, and the aggregate has both.
    const rows = aggregateStudy(outcomes).filter((r) => r.metric === 'path.naive.lossOverEndpointMean' && r.split === 'train');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.n).toBe(2);
    expect(rows[0]!.std).not.toBeNull();
  }, 300_000);

  it('mnist-cnn-fig2: θ_1 at every kept fraction, the centre line and every narrow width', async () => {
    const [cell] = expandStudy(loadStudyPreset('mnist-cnn-fig2', { quick: true }));
    const recipe = cutDown(cell!, {
      'dataset.train': 128,
      'dataset.test': 64,
      'training.steps': 3,
      'training.batchSize': 16,
      'evaluation.trainSamples': 64,
      'evaluation.testSamples': 64,
      'stability.sweep.masks': 1,
      'paths[0].points': 3,
      'paths[0].searchSamples': 32,
      // An untrained network never reaches the preset's 98%: take the first kept set.
      'paths[0].minAcc': 0,
    });
    const doc = await runRecipe(recipe, { backend });
    for (const f of [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]) for (const q of ['loss', 'acc']) finiteMetric(doc, `sweep.keep=${f}.${q}`);
    for (const w of [1, 2, 4, 6, 8, 10]) finiteMetric(doc, `narrow.width=${w}.loss`);
    finiteMetric(doc, 'path.dropout-line.maxLoss');
  }, 300_000);

  it('cifar10-vgg11-fig3: trains on a CIFAR-format folder, measures noise stability, builds the Theorem 3 path and the line', async () => {
    const [cell] = expandStudy(loadStudyPreset('cifar10-vgg11-fig3', { quick: true }));
    const training = { ...(cell!.recipe as Recipe).training, epochs: undefined, steps: 2, batchSize: 8, checkpointEvery: undefined };
    const recipe = cutDown(cell!, {
      training,
      'evaluation.trainSamples': 16,
      'evaluation.testSamples': 16,
      'stability.noise': { samples: 1, iterations: 1, ts: [0] },
      'paths[0].points': 3,
      'paths[1].maxTries': 1,
      'paths[1].searchSamples': 16,
      'paths[1].perSegment': 1,
    });
    const doc = await runRecipe(recipe, { backend, dataDir: dir });
    finiteMetric(doc, 'path.straight.maxLoss');
    finiteMetric(doc, 'path.theorem3.maxLoss');
    finiteMetric(doc, 'noise.A.epsilon', '');
    // VGG-11 on the wasm backend: minutes even at this size, more on a loaded machine.
  }, 1_800_000);
});
