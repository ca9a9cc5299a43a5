/** The recipe editor's helpers, the run view's stages and checks, formatting. */
import { describe, expect, it } from 'vitest';
import { describeChart } from '../../src-renderer/src/components/chart-description';
import { discriminatorAt, formProblems, formState, getAt, issuesAt, newItem, orphanIssues, parseNumberList, parseNumberText, removeAt, setAt, shownKeys, textShows } from '../../src-renderer/src/components/recipe-form';
import { checkLines, finishedStages, storedRunSoFar, told, verdict } from '../../src-renderer/src/views/run-view';
import { pathNames } from '../../src-main/engine/recipe/plan';
import { emptyRun } from '../../src-main/engine/experiment/run-so-far';
import { duration, num, pct, slug } from '../../src-renderer/src/util/format';
import { parseHash } from '../../src-renderer/src/state';
import { theorem1 } from './fixtures';

describe('recipe editor helpers', () => {
  const r = { name: 'x', training: { lr: 0.1, schedule: { type: 'cosine', minLr: 0 } }, paths: [{ type: 'linear' }, { type: 'theorem1' }] };

  it('updates by path without touching the original', () => {
    const a = setAt(r, ['training', 'lr'], 0.2) as typeof r;
    expect(a.training.lr).toBe(0.2);
    expect(r.training.lr).toBe(0.1);
    expect(a.paths).toBe(r.paths);
    expect(getAt(setAt(r, ['paths', 1, 'perSegment'], 8), ['paths', 1])).toEqual({ type: 'theorem1', perSegment: 8 });
    expect((removeAt(r, ['paths', 0]) as typeof r).paths).toEqual([{ type: 'theorem1' }]);
    expect(removeAt(r, ['training', 'lr'])).toEqual({ ...r, training: { schedule: r.training.schedule } });
  });

  it('knows the discriminated sections and new list items', () => {
    expect(discriminatorAt(['paths', 0])?.key).toBe('type');
    expect(discriminatorAt(['dataset'])?.key).toBe('name');
    expect(discriminatorAt(['training', 'schedule'])?.templates['step']).toEqual({ type: 'step', every: 10, factor: 0.1 });
    expect(discriminatorAt(['training'])).toBeUndefined();
    expect(newItem(['paths'], r.paths)).toEqual({ type: 'linear', points: 61 });
    expect(newItem(['endpoints'], [{ name: 'A' }, { name: 'B' }])).toEqual({ name: 'E3' });
    expect(newItem(['architecture', 'conv'], [{ filters: 32, name: 'x' }])).toEqual({ filters: 32 });
    expect(parseNumberList('64, 64 32')).toEqual([64, 64, 32]);
    expect(parseNumberList('64, x')).toMatch(/numbers/);
  });

  it('places validation messages at their fields, and keys without a field at their object', () => {
    const issues = [
      { path: ['training', 'lr'], message: 'too small' },
      { path: ['training', 'epochs'], message: 'required' },
      { path: [], message: 'whole' },
    ];
    expect(issuesAt(issues, ['training', 'lr'])).toEqual(['too small']);
    expect(issuesAt(issues, [])).toEqual(['whole']);
    expect(orphanIssues(issues, ['training'], ['lr', 'schedule']).map((i) => i.message)).toEqual(['required']);
  });
});

describe('the form never starts a recipe other than the one shown', () => {
  it('reads number text strictly: "0.5.0", "5x" and "" are not numbers', () => {
    expect(parseNumberText('0.5')).toBe(0.5);
    expect(parseNumberText(' 1e-3 ')).toBe(0.001);
    for (const bad of ['0.5.0', '5x', '', '  ', 'Infinity']) expect(parseNumberText(bad)).toBe('a number');
  });

  it('leaves text as typed when it already reads as the value, and only then', () => {
    expect(textShows('0.50', 0.5)).toBe(true);
    expect(textShows('0.5.0', 0.5)).toBe(false);
    expect(textShows('64,64', [64, 64])).toBe(true);
    expect(textShows('64', [64, 64])).toBe(false);
    expect(textShows('', null)).toBe(true);
  });

  it('counts fields that do not parse as problems, in place of the engine message about their previous value', () => {
    const validation = { ok: true, issues: [], help: {} };
    const lr = { path: ['training', 'lr'], message: 'a number' };
    expect(formProblems('', [lr], validation)).toEqual([lr]);
    expect(formState(false, formProblems('', [lr], validation).length, validation)).toBe('1 problem');
    expect(formState(false, 0, validation)).toBe('ready');
    expect(formState(true, 1, validation)).toBe('checking…');

    const invalid = { ok: false, issues: [{ path: ['training', 'lr'], message: 'must be positive' }, { path: ['seed'], message: 'an integer' }], help: {} };
    expect(formProblems('', [lr], invalid)).toEqual([lr, { path: ['seed'], message: 'an integer' }]);
  });

  it("counts the resource estimate's refusal among the problems (a recipe that cannot fit does not start)", () => {
    const validation = { ok: true, issues: [], help: {} };
    const refusal = 'this recipe needs about 4.0 TB of memory (parameters 1.0 TB); this machine has 8.0 GB';
    expect(formProblems('', [], validation, refusal)).toEqual([{ path: [], message: refusal }]);
    expect(formState(false, formProblems('', [], validation, refusal).length, validation)).toBe('1 problem');
    expect(formProblems('', [], validation, null)).toEqual([]);
  });

  it('shows only the JSON syntax error while the JSON does not parse, not the last recipe problems', () => {
    const invalid = { ok: false, issues: [{ path: ['seed'], message: 'an integer' }], help: {} };
    expect(formProblems('Unexpected end of JSON input', [], invalid)).toEqual([{ path: [], message: 'JSON: Unexpected end of JSON input' }]);
    expect(formState(false, 1, { ok: true, issues: [], help: {} })).toBe('1 problem');
  });
});

describe('run view', () => {
  it("starts a stored run's page from the engine's plan of its recipe: a stage per endpoint, stability, each path (named as the engine names them) and the plane", () => {
    const cfg = { endpoints: [{ name: 'A' }, { name: 'B' }], stability: { dropout: {} }, paths: [{ type: 'linear' }, { type: 'theorem1' }, { type: 'linear' }, { type: 'bezier', name: 'curved' }], plane: {} };
    const stored = (config: unknown) => storedRunSoFar({ config, endpoints: [], curves: {}, stability: null, paths: [], plane: null });
    expect(pathNames(cfg.paths)).toEqual(['linear', 'theorem1', 'linear-2', 'curved']);
    expect(stored(cfg).plan?.stages.map((s) => s.stage)).toEqual(['train:A', 'train:B', 'stability', 'path:linear', 'path:theorem1', 'path:linear-2', 'path:curved', 'plane']);
    expect(stored(cfg).plan?.paths).toEqual(['linear', 'theorem1', 'linear-2', 'curved']);
    expect(stored({ experiment: 'counterexample' }).plan?.stages.map((s) => s.stage)).toEqual(['curves', 'path:linear', 'path:bezier', 'path:polychain']);
    expect(finishedStages({ ...emptyRun, endpoints: [{ name: 'A' }] as never, paths: [theorem1] }, 'running')).toEqual(['train:A', 'path:theorem1']);
  });

  it('states each check plainly, with its numbers', () => {
    const lines = checkLines({
      ...theorem1.check,
      functionPreserving: { segments: 2, maxAbsDiff: 1e-6, maxRelDiff: 2e-7, tolerance: 1e-4, pass: true },
      lossBound: { maxTrainLoss: 0.15, t: 0.4, bound: 0.16, epsilon: 0.05, formula: 'max(L_A, L_B) + ε', pass: true },
    });
    expect(lines.map((l) => l.label)).toEqual(['ends exact', 'segments', '(b)/(c) function preserved', 'loss bound']);
    expect(lines.every((l) => l.state === 'pass')).toBe(true);
    expect(lines[3]!.detail).toContain('0.15 at t=0.400 ≤ 0.16');
  });

  it('shows a bound and the measurement it is compared with apart (issue 13 item 9: not "0.1718 ≤ 0.1718")', () => {
    const lines = checkLines({
      ...theorem1.check,
      lossBound: { maxTrainLoss: 0.171812, t: 0.4, bound: 0.171839, epsilon: 0.05, formula: 'max(L_A, L_B) + ε', pass: true },
    });
    expect(lines.at(-1)!.detail).toContain('0.17181 at t=0.400 ≤ 0.17184');
  });

  it('an Algorithm 1 segment over the tolerance is a WARNING line and verdict, with the theory scale beside it', () => {
    const check = {
      ...theorem1.check,
      state: 'warning' as const,
      pass: false,
      algorithm1Segments: {
        tolerance: 0.1,
        segments: [
          { endpoint: 'A', loss: 0.05, maxLoss: 0.9, t: 0.05, excess: 0.85, withinTolerance: false, theoryScale: 12.5 },
          { endpoint: 'B', loss: 0.05, maxLoss: 0.1, t: 0.95, excess: 0.05, withinTolerance: true, theoryScale: null },
        ],
        theory: 'Lemma 3 / Theorem 2: excess ≤ Õ(ε)',
        state: 'warning' as const,
      },
    };
    const lines = checkLines(check);
    expect(lines.slice(-2).map((l) => [l.label, l.state])).toEqual([
      ['Algorithm 1 segment (A)', 'warning'],
      ['Algorithm 1 segment (B)', 'pass'],
    ]);
    expect(lines.at(-2)!.detail).toContain('0.85 at t=0.050 > tolerance 0.1');
    expect(lines.at(-2)!.detail).toContain('measured ε-scale 12.5');
    expect(lines.at(-1)!.detail).toContain('add stability.noise');
    expect(verdict(check)).toEqual({ state: 'warning', label: 'WARNING' });
    // A stored run from before the state field: its verdict comes from `pass`.
    expect(verdict({ ...theorem1.check, pass: false })).toEqual({ state: 'fail', label: 'FAIL' });
  });

  it('formats numbers, times and routes', () => {
    expect(num(0.123456)).toBe('0.1235');
    expect(num(Number.NaN)).toBe('—');
    expect(pct(0.98765)).toBe('98.77%');
    expect(duration(75)).toBe('1 min 15 s');
    expect(slug('smoke A (seed 1)')).toBe('smoke-A-seed-1');
    expect(parseHash('#/run/abc?tab=x')).toEqual({ name: 'run', id: 'abc', query: { tab: 'x' } });
    expect(parseHash('#/compare?ids=a,b').query['ids']).toBe('a,b');
    expect(parseHash('').name).toBe('history');
  });

  it('shows the parts of a run told so far, without the gap a part told out of order leaves', () => {
    const list: ({ name: string } | undefined)[] = [];
    list[1] = { name: 'theorem1' };
    expect(told(list)).toEqual([{ name: 'theorem1' }]);
  });
});

describe('recipe editor: optimizer settings and chart text', () => {
  it("shows only the chosen optimizer's settings", () => {
    const training = { optimizer: 'sgd', lr: 0.05, momentum: 0.9, nesterov: false, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, batchSize: 64 };
    expect(shownKeys(training)).toEqual(['optimizer', 'lr', 'momentum', 'nesterov', 'batchSize']);
    expect(shownKeys({ ...training, optimizer: 'adam' })).toEqual(['optimizer', 'lr', 'beta1', 'beta2', 'epsilon', 'batchSize']);
    expect(shownKeys({ filters: 32, kernel: 3 })).toEqual(['filters', 'kernel']);
  });

  it('describes a chart in words: title, kind, axes and series', () => {
    const option = { xAxis: { name: 't' }, yAxis: [{ name: 'train loss' }], series: [1, 2, 3, 4, 5, 6, 7, 8].map((i) => ({ type: 'line', name: `path ${i}` })) };
    expect(describeChart('Path loss', option)).toBe('Path loss: line chart of train loss against t; series path 1, path 2, path 3, path 4, path 5, path 6 and 2 more.');
    expect(describeChart('Live', { series: [] })).toBe('Live: empty chart.');
  });
});
