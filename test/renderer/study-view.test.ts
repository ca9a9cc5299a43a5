/**
 * The app's study figures (charts/study.ts) over a study document aggregated by the engine's own aggregation
 * (engine/study/aggregate.ts): mean ± std against the swept axis, each trial a faint point, one series per path;
 * a second axis as small multiples; the in-run x of the Fig. 2 families; the SVG export. And "Run again"
 * (views/run-again.ts): a new seed, or N trials as a study the engine's study schema accepts.
 */
import { describe, expect, it } from 'vitest';
import type { StudyDocument, StudyEvent } from '../../src-main/api/contract';
import type { PathResult, RunResult } from '../../src-main/engine/experiment/result';
import { type CellOutcome, aggregateStudy } from '../../src-main/engine/study/aggregate';
import { expandStudy, resolveStudy } from '../../src-main/engine/study/expand';
import { renderSvg } from '../../src-renderer/src/charts/export';
import { axisNumber, buildStudyPanels, defaultFigure, studyFigures } from '../../src-renderer/src/charts/study';
import { againRequest } from '../../src-renderer/src/views/run-again';
import { applyStudyEvent, countsText, planText, studyActive, studyState } from '../../src-renderer/src/views/study-view';
import { linear } from './fixtures';

type Doc = Pick<RunResult, 'endpoints' | 'paths' | 'stability'>;
type S = { id: string; type: string; name: string; data: unknown[]; itemStyle?: { opacity?: number } };
const series = (o: Record<string, unknown>): S[] => o['series'] as S[];

/** A path whose test barrier (loss over the endpoints' mean) is `b`. */
function pathWithBarrier(name: string, b: number): PathResult {
  const split = { ...linear.barrier.test, lossOverEndpointMean: { value: b, t: 0.5 } };
  return { ...linear, name, barrier: { train: split, test: split } };
}

const runDoc = (barriers: Record<string, number>): Doc => ({ endpoints: [], paths: Object.entries(barriers).map(([n, b]) => pathWithBarrier(n, b)), stability: null } as unknown as Doc);

/** A study document as the api returns it, over cells whose documents `docOf` makes. */
function studyDoc(axes: { field: string; values: unknown[] }[], trials: number, docOf: (settings: unknown[], trial: number) => Doc): StudyDocument {
  const combos = axes.reduce<unknown[][]>((acc, a) => acc.flatMap((c) => a.values.map((v) => [...c, v])), [[]]);
  const outcomes: CellOutcome[] = [];
  combos.forEach((vals, group) => {
    for (let trial = 0; trial < trials; trial++) {
      const index = group * trials + trial;
      outcomes.push({ index, group, trial, settings: axes.map((a, i) => ({ field: a.field, value: vals[i] })), runId: `run${index}`, doc: docOf(vals, trial) });
    }
  });
  const counts = { pending: 0, queued: 0, running: 0, finished: outcomes.length, failed: 0, cancelled: 0, crashed: 0 };
  return {
    schema: 'modelab.study/1',
    study: { id: 's1', name: 'sweep', status: 'finished', live: false, cells: outcomes.length, axes: axes.map((a) => a.field), trials, counts, recipe: { name: 'sweep', base: { config: {} }, axes, trials, seed: 1 } },
    cells: [],
    table: aggregateStudy(outcomes),
  } as unknown as StudyDocument;
}

describe('study figures', () => {
  const widths = [[32], [128], [512]];
  // Barriers fall with width; matched lies below naive; trials differ by ±0.01.
  const doc = studyDoc([{ field: 'architecture.hidden', values: widths }], 3, ([w], trial) => {
    const k = Math.log2((w as number[])[0]!);
    return runDoc({ naive: 2 / k + (trial - 1) * 0.01, matched: 0.5 / k + (trial - 1) * 0.01, theorem1: 1 / k + (trial - 1) * 0.01 });
  });

  it('lists a figure per family, quantity and split, opening on the test barrier over the endpoint mean', () => {
    const figs = studyFigures(doc);
    expect(figs.every((f) => f.family === 'barrier')).toBe(true);
    expect(figs).toHaveLength(12); // 6 barrier metrics × train, test
    expect(defaultFigure(figs)?.key).toBe('barrier|lossOverEndpointMean|test');
  });

  it('draws barrier against width: mean per width, ±1 std bars, each trial a faint point; naive, matched, Theorem 1 as series', () => {
    const [panel, ...more] = buildStudyPanels(doc, defaultFigure(studyFigures(doc))!);
    expect(more).toHaveLength(0);
    const o = panel!.option;
    expect(series(o).map((s) => s.id)).toEqual(['naive|mean', 'naive|err', 'naive|trials', 'matched|mean', 'matched|err', 'matched|trials', 'theorem1|mean', 'theorem1|err', 'theorem1|trials']);
    const mean = series(o).find((s) => s.id === 'naive|mean')!;
    expect(mean.data.map((p) => (p as number[])[0])).toEqual([32, 128, 512]);
    expect((mean.data[0] as number[])[1]).toBeCloseTo(2 / 5, 12);
    const err = series(o).find((s) => s.id === 'naive|err')!;
    const [x, lo, hi] = err.data[0] as number[];
    expect(x).toBe(32);
    // Sample std of (−0.01, 0, 0.01) is 0.01.
    expect(hi! - lo!).toBeCloseTo(0.02, 12);
    const trials = series(o).find((s) => s.id === 'matched|trials')!;
    expect(trials.type).toBe('scatter');
    expect(trials.itemStyle!.opacity).toBeLessThan(0.5);
    expect(trials.data).toHaveLength(9);
    expect(trials.data).toContainEqual([128, expect.closeTo(0.5 / 7 + 0.01, 12)]);
    const xAxis = o['xAxis'] as { type: string; name: string };
    expect(xAxis).toMatchObject({ type: 'log', name: 'architecture.hidden' });
    expect((o['legend'] as { data: string[] }).data).toEqual(['naive', 'matched', 'theorem1']);
  });

  it('makes small multiples of a second axis, one panel per value, x the first axis', () => {
    const two = studyDoc(
      [
        { field: 'training.epochs', values: [1, 2, 4] },
        { field: 'paths[0].points', values: [11, 21] },
      ],
      2,
      ([e], t) => runDoc({ naive: 1 / (e as number) + t * 0.1 }),
    );
    const panels = buildStudyPanels(two, defaultFigure(studyFigures(two))!);
    expect(panels.map((p) => p.title)).toEqual(['paths[0].points=11', 'paths[0].points=21']);
    for (const p of panels) {
      const mean = series(p.option).find((s) => s.id === 'naive|mean')!;
      expect(mean.data).toEqual([[1, expect.closeTo(1.05, 12)], [2, expect.closeTo(0.55, 12)], [4, expect.closeTo(0.3, 12)]]);
      expect((p.option['xAxis'] as { type: string }).type).toBe('value');
    }
  });

  it('draws Fig. 2 left of a study without axes against the kept fraction measured inside each run', () => {
    const sweep = (shift: number): Doc =>
      ({
        endpoints: [],
        paths: [],
        stability: { sweep: { masks: 20, points: [0.5, 0.75, 0.95].map((f) => ({ keepFraction: f, loss: { mean: 1 - f + shift, std: 0 }, acc: { mean: f, std: 0 }, perEndpoint: {} })) } },
      }) as unknown as Doc;
    const d = studyDoc([], 5, (_v, t) => sweep(t * 0.01));
    const fig = studyFigures(d).find((f) => f.key === 'sweep|loss|train')!;
    const [panel] = buildStudyPanels(d, fig);
    const mean = series(panel!.option).find((s) => s.id === 'loss|mean')!;
    expect(mean.data).toEqual([[0.5, expect.closeTo(0.52, 12)], [0.75, expect.closeTo(0.27, 12)], [0.95, expect.closeTo(0.07, 12)]]);
    expect((panel!.option['xAxis'] as { name: string }).name).toBe('kept fraction');
    expect(series(panel!.option).find((s) => s.id === 'loss|trials')!.data).toHaveLength(15);
  });

  it('exports as SVG with every series', () => {
    const [panel] = buildStudyPanels(doc, defaultFigure(studyFigures(doc))!);
    const svg = renderSvg(panel!.option, 800, 400, false);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('theorem1');
  });

  it('reads widths given as lists as numbers, other values as labels', () => {
    expect([axisNumber(32), axisNumber([64]), axisNumber([16, 16]), axisNumber([16, 8]), axisNumber('sgd')]).toEqual([32, 64, 16, null, null]);
  });
});

describe('study state in words', () => {
  const counts = { pending: 1, queued: 0, running: 2, finished: 3, failed: 1, cancelled: 0, crashed: 0 };
  it('counts cells as the CLI does, and calls a running study without a coordinator interrupted', () => {
    expect(countsText({ counts, cells: 7 })).toBe('3/7 done, 2 running, 1 failed');
    expect(studyState({ status: 'running', live: false })).toBe('interrupted');
    expect(studyState({ status: 'running', live: true })).toBe('running');
    expect(studyActive({ status: 'running', live: false, counts })).toBe(true);
    expect(studyActive({ status: 'failed', live: false, counts: { ...counts, running: 0 } })).toBe(false);
    expect(studyActive({ status: 'created', live: false, counts: { ...counts, running: 0 } })).toBe(true);
  });

  it('states a plan before it starts: cells, shape, the time here or why there is none', () => {
    const estimate = { cells: 4, parallel: 2, cellSeconds: 45, seconds: 90, note: null };
    const plan = { name: 's', cells: 4, axes: ['architecture.hidden'], trials: 2, estimate };
    expect(planText(plan)).toBe('4 cells (architecture.hidden × 2 trials); about 1 min 30 s here, 2 at once');
    expect(planText({ ...plan, estimate: { ...estimate, seconds: null, cellSeconds: null, note: 'no timing figures yet' } })).toBe('4 cells (architecture.hidden × 2 trials); no timing figures yet');
  });
});

describe('run again', () => {
  const run = { name: 'pair', config: { name: 'pair', seed: 5, dataset: { name: 'gaussian-mixture', dim: 4, classes: 2, train: 40, test: 20 }, architecture: { type: 'mlp', hidden: [4] }, training: { epochs: 1 }, endpoints: [{ name: 'A', seed: 9 }, { name: 'B' }] } };

  it('once with a new seed: the recipe with that seed, its fixed endpoint seeds removed', () => {
    const r = againRequest(run, { trials: 1, newSeeds: true }, 1234);
    expect(r.kind).toBe('run');
    const recipe = (r as { request: { recipe: Record<string, unknown> } }).request.recipe;
    expect(recipe['seed']).toBe(1234);
    expect(recipe['endpoints']).toEqual([{ name: 'A' }, { name: 'B' }]);
    expect(run.config.endpoints[0]).toEqual({ name: 'A', seed: 9 }); // the run's own recipe untouched
    const same = againRequest(run, { trials: 1, newSeeds: false }, 1234);
    expect((same as { request: { recipe: Record<string, unknown> } }).request.recipe).toEqual(run.config);
  });

  it('N trials: a study of the recipe that the engine plans into N cells with distinct seeds', () => {
    const r = againRequest(run, { trials: 3, newSeeds: false }, 1234);
    expect(r.kind).toBe('study');
    const study = (r as { study: Record<string, unknown> }).study;
    expect(study['seed']).toBe(5);
    const cells = expandStudy(resolveStudy(study, 'run again'));
    expect(cells).toHaveLength(3);
    expect(new Set(cells.map((c) => c.seed)).size).toBe(3);
    expect(() => againRequest(run, { trials: 0, newSeeds: true }, 1)).toThrow(/trials must be a whole number/);
  });
});

describe("the study page's state follows the study's events", () => {
  const zero = { pending: 0, queued: 0, running: 0, finished: 0, failed: 0, cancelled: 0, crashed: 0 };
  /** Two cells not yet started, as getStudy returns a study just created. */
  const fresh = (): StudyDocument =>
    ({
      schema: 'modelab.study/1',
      study: { id: 's1', name: 'sweep', status: 'created', live: false, cells: 2, axes: [], trials: 2, counts: { ...zero, pending: 2 } },
      cells: [0, 1].map((index) => ({ index, group: 0, trial: index, seed: index, settings: [], label: '', state: 'pending', runId: null, error: null, attempts: [] })),
      table: [],
    }) as unknown as StudyDocument;
  const cell = (index: number, runId: string, state: string, error: string | null = null): StudyEvent => ({ type: 'study-cell', studyId: 's1', cell: { index, runId, state, error } }) as StudyEvent;
  const progress = (counts: Partial<typeof zero>): StudyEvent => ({ type: 'study', studyId: 's1', progress: { studyId: 's1', name: 'sweep', cells: 2, counts: { ...zero, ...counts }, etaSeconds: null, elapsedSeconds: 1 } });

  it('takes the status, the cells’ runs and states and the counts from the events; a finished cell asks for the aggregate', () => {
    const doc = fresh();
    expect(applyStudyEvent(doc, { type: 'study-status', studyId: 's1', status: 'running' })).toBe('changed');
    expect(studyState(doc.study)).toBe('running');
    expect(studyActive(doc.study)).toBe(true);
    expect(applyStudyEvent(doc, cell(0, 'r0', 'running'))).toBe('changed');
    expect(applyStudyEvent(doc, progress({ running: 1, pending: 1 }))).toBe('changed');
    expect(doc.cells[0]).toMatchObject({ state: 'running', runId: 'r0', attempts: ['r0'] });
    expect(countsText(doc.study)).toBe('0/2 done, 1 running');
    // A finished run brings values the aggregated table lacks: the page reads the study again.
    expect(applyStudyEvent(doc, cell(0, 'r0', 'finished'))).toBe('refresh');
    expect(applyStudyEvent(doc, cell(1, 'r1', 'failed', 'out of memory'))).toBe('changed');
    expect(applyStudyEvent(doc, progress({ finished: 1, failed: 1 }))).toBe('changed');
    expect(doc.cells.map((c) => [c.state, c.runId, c.error])).toEqual([['finished', 'r0', null], ['failed', 'r1', 'out of memory']]);
    expect(countsText(doc.study)).toBe('1/2 done, 1 failed');
    expect(applyStudyEvent(doc, { type: 'study-status', studyId: 's1', status: 'failed' })).toBe('changed');
    expect(studyState(doc.study)).toBe('failed');
    expect(studyActive(doc.study)).toBe(false);
    // Resumed: the failed cell's new attempt.
    applyStudyEvent(doc, { type: 'study-status', studyId: 's1', status: 'running' });
    expect(applyStudyEvent(doc, cell(1, 'r2', 'queued'))).toBe('changed');
    expect(doc.cells[1]).toMatchObject({ state: 'queued', runId: 'r2', error: null, attempts: ['r1', 'r2'] });
  });

  it('ignores another study’s events and events older than what it shows (a read that overtook them)', () => {
    const doc = fresh();
    expect(applyStudyEvent(doc, { ...cell(0, 'x', 'running'), studyId: 'other' } as StudyEvent)).toBe('ignored');
    expect(applyStudyEvent(doc, cell(7, 'r7', 'running'))).toBe('ignored');
    expect(doc.cells[0]!.runId).toBeNull();
    applyStudyEvent(doc, cell(0, 'r0', 'finished'));
    expect(applyStudyEvent(doc, cell(0, 'r0', 'running'))).toBe('ignored');
    applyStudyEvent(doc, cell(0, 'r1', 'running'));
    expect(applyStudyEvent(doc, cell(0, 'r0', 'finished'))).toBe('ignored');
    expect(doc.cells[0]).toMatchObject({ state: 'running', runId: 'r1', attempts: ['r0', 'r1'] });
  });
});
