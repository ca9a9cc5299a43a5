/** What the run view derives from a run: the run as its events tell it, which stages are finished, the checks in words. */
import type { PathCheck, ProgressEvent, RunDetail, RunStatus } from '../api/types';
import { num } from '../util/format';
import { type CheckState, CHECK_STATE_LABEL, checkStateOf } from '../../../src-main/engine/experiment/check-state';
import { type RunSoFar, emptyRun } from '../../../src-main/engine/experiment/run-so-far';
import { distinctDigits } from '../../../src-main/engine/util/format-compare';
import { type PlanInput, runPlan, stageKey } from '../../../src-main/engine/recipe/plan';

/**
 * The run as the page starts from: what the history has stored of it, as the fold of its events so far
 * (engine/experiment/run-so-far.ts), which the run's events then extend with the engine's own reducer. Its plan is the
 * one the engine made from the same recipe (recipe/plan.ts runPlan), until a plan event tells it; `progress`: what
 * this page has heard of its stages since the app started (state.ts).
 */
export function storedRunSoFar(d: Pick<RunDetail, 'config' | 'endpoints' | 'curves' | 'stability' | 'paths' | 'plane'>, progress: Record<string, ProgressEvent> = {}): RunSoFar {
  return {
    ...emptyRun,
    plan: runPlan(d.config as PlanInput | null),
    endpoints: d.endpoints,
    curves: d.curves,
    stability: d.stability,
    paths: d.paths,
    plane: d.plane,
    progress: { ...progress },
  };
}

/** The parts of a list told so far: a part told out of order leaves a gap before it until the others come. */
export function told<T>(list: readonly (T | undefined)[]): T[] {
  return list.filter((x): x is T => x !== undefined);
}

/** The stage keys of what the run has finished. */
export function finishedStages(run: Pick<RunSoFar, 'endpoints' | 'stability' | 'paths' | 'plane'>, status: RunStatus | null): string[] {
  const done = [...told(run.endpoints).map((e) => stageKey.train(e.name)), ...told(run.paths).map((p) => stageKey.path(p.name))];
  if (run.stability) done.push(stageKey.stability);
  if (run.plane) done.push(stageKey.plane);
  // The counterexample's curves are trained inside its paths' stage: finished with the run.
  if (status === 'finished') done.push(stageKey.curves);
  return done;
}

export interface CheckLine {
  label: string;
  /** 'warning': over a tolerance the theory bounds only up to unknown constants (check-state.ts). */
  state: CheckState;
  detail: string;
}

const held = (ok: boolean): CheckState => (ok ? 'pass' : 'fail');

/** The mark before a check line. */
export const LINE_MARK: Record<CheckState, string> = { pass: '✓', warning: '!', fail: '✗' };

/** A path's verification as plain lines (what holds, with the numbers). */
export function checkLines(c: PathCheck | undefined): CheckLine[] {
  if (!c) return [];
  const lines: CheckLine[] = [
    { label: 'ends exact', state: held(c.endpoints.startsAtA && c.endpoints.endsAtB), detail: `starts at θ_from: ${c.endpoints.startsAtA ? 'yes' : 'no'}, ends at θ_to: ${c.endpoints.endsAtB ? 'yes' : 'no'} (bit for bit)` },
    { label: 'segments', state: held(c.segmentCount.pass), detail: `${c.segmentCount.actual} of ${c.segmentCount.expected} expected` },
  ];
  if (c.functionPreserving.segments > 0) {
    lines.push({
      label: '(b)/(c) function preserved',
      state: held(c.functionPreserving.pass),
      detail: `${c.functionPreserving.segments} segments, max |Δout| ${num(c.functionPreserving.maxAbsDiff, 2)}, relative ${num(c.functionPreserving.maxRelDiff, 2)} ≤ ${num(c.functionPreserving.tolerance, 2)}`,
    });
  }
  if (c.topLayerOnly.segments > 0) {
    lines.push({
      label: '(a) top layer only',
      state: held(c.topLayerOnly.pass),
      detail: `${c.topLayerOnly.segments} segments, ${c.topLayerOnly.violations.length ? `violations: ${c.topLayerOnly.violations.join(', ')}` : 'no other parameter moves'}, affine in t to ${num(c.topLayerOnly.affineMaxRelDiff, 2)}`,
    });
  }
  const lb = c.lossBound;
  if (lb) {
    const [max, bound] = distinctDigits(lb.maxTrainLoss, lb.bound);
    lines.push({
      label: 'loss bound',
      state: held(lb.pass),
      detail: `max train loss${lb.over ? ` on ${lb.over}` : ''} ${max} at t=${lb.t.toFixed(3)} ≤ ${bound} (${lb.formula}${lb.over ? '' : `, ε ${num(lb.epsilon)}`})`,
    });
  }
  const a1 = c.algorithm1Segments;
  for (const s of a1?.segments ?? []) {
    const [excess, tol] = distinctDigits(s.excess, a1!.tolerance);
    lines.push({
      label: `Algorithm 1 segment (${s.endpoint})`,
      state: s.withinTolerance ? 'pass' : 'warning',
      detail: `excess over L(${s.endpoint}) ${excess} at t=${s.t.toFixed(3)} ${s.withinTolerance ? '≤' : '>'} tolerance ${tol}; theory: ${a1!.theory}, ${s.theoryScale === null ? 'ε not measured (add stability.noise)' : `measured ε-scale ${num(s.theoryScale)}`}`,
    });
  }
  if (c.theorem4) {
    lines.push({
      label: 'Theorem 4: no zero-loss path',
      state: held(c.theorem4.pass),
      detail: `max train loss ${num(c.theorem4.maxLoss)} at t=${c.theorem4.t.toFixed(3)} ${c.theorem4.pass ? '>' : 'is not >'} 0`,
    });
  }
  if (c.endFunction) {
    lines.push({ label: 'π(θ_B) computes θ_B', state: held(c.endFunction.pass), detail: `max |Δlogits| ${num(c.endFunction.maxAbsDiff, 2)}, relative ${num(c.endFunction.maxRelDiff, 2)} ≤ ${num(c.endFunction.tolerance, 2)}` });
  }
  return lines;
}

/** The verdict of a path's check: its state (old documents: from `pass`) and its label. */
export function verdict(c: PathCheck): { state: CheckState; label: string } {
  const state = checkStateOf(c);
  return { state, label: CHECK_STATE_LABEL[state] };
}
