/** Builds the paths a recipe asks for, evaluates them structure-aware, and verifies each construction. */
import { barrierOf } from '../eval/barrier';
import { paramsEqual } from '../nn/params';
import { type ParamPath, linearPath, tGrid } from '../paths/path';
import { type PathVerification, evaluatePathStructured } from '../paths/structured-eval';
import { hiddenWidths } from '../theory/units';
import { theorem1Path } from '../theory/theorem1';
import type { ExperimentContext } from './context';
import type { PathCheck, PathResult } from './result';
import { pathEnds, pathName } from './resolve';
import type { PathConfig } from './schema';

/** Slack for comparing a measured loss with a bound computed from the same float32 numbers. */
const BOUND_SLACK = 1e-5;

interface Construction {
  path: ParamPath;
  expectedSegments: number;
  /** L ≤ bound along the path, when the construction proves one. */
  bound?: { value: number; epsilon: number; formula: string };
  details: Record<string, unknown>;
}

async function construct(ctx: ExperimentContext, p: PathConfig, name: string, from: string, to: string): Promise<Construction> {
  const A = ctx.weights.get(from)!;
  const B = ctx.weights.get(to)!;
  const d = ctx.spec.layers.length;
  switch (p.type) {
    case 'linear':
      return { path: linearPath(A, B, name), expectedSegments: 1, details: {} };
    case 'theorem1': {
      const [sA, sB] = [await ctx.dropoutStability(from, p.dropout), await ctx.dropoutStability(to, p.dropout)];
      if (p.dropout.keepFraction > 0.5) throw new Error('Theorem 1 needs kept sets of at most half of each layer (keepFraction ≤ 0.5)');
      const r = hiddenWidths(ctx.spec).map(() => sA.r);
      const epsilon = Math.max(sA.epsilon, sB.epsilon);
      const LA = ctx.endpointMetrics.get(from)!.train.loss;
      const LB = ctx.endpointMetrics.get(to)!.train.loss;
      return {
        path: theorem1Path(ctx.spec, A, sA.kept, B, sB.kept, r, name),
        expectedSegments: 8 * d - 4,
        bound: { value: Math.max(LA, LB) + epsilon, epsilon, formula: 'max(L_A, L_B) + ε, ε = max over both networks and i of L(θ_i) − L(θ)' },
        details: {
          keepFraction: sA.keepFraction,
          r: sA.r,
          epsilon: { [from]: sA.epsilon, [to]: sB.epsilon },
          kept: { [from]: sA.kept, [to]: sB.kept },
          keptSizes: sA.kept.map((k) => k.length),
          chosen: { [from]: sA.chosen, [to]: sB.chosen },
          dropoutStable: epsilon <= 0 ? 'yes (ε ≤ 0)' : `ε = ${epsilon.toPrecision(4)}`,
        },
      };
    }
  }
}

function buildCheck(c: Construction, A: object, B: object, v: PathVerification, maxTrain: { value: number; t: number }): PathCheck {
  const path = c.path;
  const endpoints = {
    startsAtA: paramsEqual(path.vertices[0]!, A as never),
    endsAtB: paramsEqual(path.vertices[path.vertices.length - 1]!, B as never),
  };
  const segmentCount = { expected: c.expectedSegments, actual: path.segments.length, pass: c.expectedSegments === path.segments.length };
  const lossBound = c.bound
    ? { maxTrainLoss: maxTrain.value, t: maxTrain.t, bound: c.bound.value, epsilon: c.bound.epsilon, formula: c.bound.formula, pass: maxTrain.value <= c.bound.value + BOUND_SLACK }
    : undefined;
  const pass =
    endpoints.startsAtA && endpoints.endsAtB && segmentCount.pass && v.functionPreserving.pass && v.topLayerOnly.pass && (lossBound?.pass ?? true);
  return { pass, endpoints, segmentCount, ...v, ...(lossBound ? { lossBound } : {}) };
}

export async function buildAndEvaluatePath(ctx: ExperimentContext, p: PathConfig, index: number): Promise<{ result: PathResult; path: ParamPath }> {
  const name = pathName(ctx.recipe, index);
  const { from, to } = pathEnds(ctx.recipe, p);
  const c = await construct(ctx, p, name, from, to);
  const ts = tGrid(c.path, p.type === 'linear' ? { points: p.points } : { perSegment: p.perSegment });
  const ev = await evaluatePathStructured(ctx.spec, c.path, ts, ctx.splits, ctx.checkX, {
    onProgress: ctx.onProgress,
    signal: ctx.signal,
    stage: `path:${name}`,
    label: `path ${name}`,
  });
  const barrier = barrierOf(ev.points);
  const check = buildCheck(c, ctx.weights.get(from)!, ctx.weights.get(to)!, ev.verification, barrier.train.maxLoss);
  return {
    path: c.path,
    result: { name, kind: c.path.method, from, to, segments: c.path.segments, points: ev.points, barrier, cost: ev.cost, check, construction: c.details },
  };
}
