/** Builds the paths a recipe asks for, evaluates them structure-aware, and verifies each construction. */
import { type PathPoint, barrierOf } from '../eval/barrier';
import type { Metrics } from '../eval/evaluate';
import { evaluateHost } from '../eval/host';
import { type HostParams, paramsEqual } from '../nn/params';
import type { ArchSpec } from '../nn/spec';
import { type ParamPath, linearPath, tGrid } from '../paths/path';
import { type PathVerification, evaluatePathStructured } from '../paths/structured-eval';
import { embedNarrow, withHiddenWidths } from '../theory/embed';
import type { Kept } from '../theory/kept';
import { narrowSlots, theorem2Path, theorem3Path } from '../theory/noise-stable-paths';
import { theorem1Path } from '../theory/theorem1';
import { hiddenWidths } from '../theory/units';
import { train } from '../train/loop';
import { InputError } from '../util/errors';
import { deriveSeed } from '../util/rng';
import type { ExperimentContext } from './context';
import { type RetriedDropout, algorithm1WithRetries, droppedVersion } from './dropout-search';
import type { PathCheck, PathResult } from './result';
import { pathEnds, pathName, trainingWith } from './resolve';
import type { PathConfig } from './schema';

/** Slack for comparing a measured loss with a bound computed from the same float32 numbers. */
const BOUND_SLACK = 1e-5;

interface Bound {
  value: number;
  epsilon: number;
  formula: string;
}

interface Construction {
  path: ParamPath;
  expectedSegments: number;
  /** L ≤ bound along the path, when the construction proves one (some bounds use the evaluated points). */
  bound?: (points: PathPoint[]) => Bound;
  details: Record<string, unknown>;
}

/** max over the points on segment s of L(t), train. */
function maxOnSegment(path: ParamPath, points: PathPoint[], s: number): number {
  const S = path.segments.length;
  return Math.max(...points.filter((p) => p.t >= s / S - 1e-12 && p.t <= (s + 1) / S + 1e-12).map((p) => p.train.loss));
}

const half = (widths: number[]) => (kept: Kept) => kept.every((k, idx) => k.length <= Math.floor(widths[idx]! / 2));

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
        bound: () => ({ value: Math.max(LA, LB) + epsilon, epsilon, formula: 'max(L_A, L_B) + ε, ε = max over both networks and i of L(θ_i) − L(θ)' }),
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
    case 'theorem2':
    case 'theorem3': {
      const widths = hiddenWidths(ctx.spec);
      const LA = ctx.endpointMetrics.get(from)!.train.loss;
      const LB = ctx.endpointMetrics.get(to)!.train.loss;
      let narrow: { spec: ArchSpec; params: HostParams; widths: number[]; train: Metrics; test: Metrics } | null = null;
      let prob = p.p ?? 0.75;
      if (p.type === 'theorem3') {
        const nw = Array.isArray(p.narrow.width) ? p.narrow.width : widths.map(() => p.narrow.width as number);
        if (nw.length !== widths.length) throw new InputError(`path ${name}: narrow.width needs ${widths.length} values`);
        const minP = 1.5 * Math.max(...nw.map((w, k) => w / widths[k]!));
        prob = p.p ?? Math.ceil(minP * 100) / 100;
        if (prob > 0.75 || prob < minP - 1e-12) {
          throw new InputError(`path ${name}: Theorem 3 needs 1.5·max h*/h = ${minP.toFixed(3)} ≤ p ≤ 3/4, got p = ${prob}`);
        }
        const nSpec = withHiddenWidths(ctx.spec, nw);
        nSpec.layers = nSpec.layers.map((l) => ({ ...l, dropout: 0 }));
        const r = await train(nSpec, ctx.data, trainingWith(ctx.recipe, p.narrow.training, `paths.${name}.narrow.training`), {
          seed: deriveSeed(ctx.recipe.seed, `narrow:${name}`),
          stage: `train:${name}:narrow`,
          label: `train θ* (${name})`,
          onProgress: ctx.onProgress,
          signal: ctx.signal,
        });
        narrow = {
          spec: nSpec,
          params: r.params,
          widths: nw,
          train: await evaluateHost(nSpec, r.params, ctx.splits.train),
          test: await evaluateHost(nSpec, r.params, ctx.splits.test),
        };
      }
      const need = narrow
        ? (kept: Kept) => kept.every((k, idx) => widths[idx]! - k.length >= narrow!.widths[idx]!)
        : half(widths);
      const drops: Record<string, RetriedDropout> = {};
      for (const e of [from, to]) {
        drops[e] = await algorithm1WithRetries(ctx.spec, ctx.weights.get(e)!, {
          p: prob,
          maxTries: p.maxTries,
          tolerance: p.tolerance,
          checkPoints: p.checkPoints,
          seed: deriveSeed(ctx.recipe.seed, `algorithm1:${name}:${e}`),
          requirement: need,
          requirementText: narrow ? 'enough dropped units in every layer to hold θ*' : 'at least half of every layer dropped',
          search: ctx.searchSplit(p.searchSamples),
          onProgress: ctx.onProgress,
          signal: ctx.signal,
          stage: `algorithm1:${name}:${e}`,
          label: `Algorithm 1 (${e})`,
        });
      }
      const [dA, dB] = [drops[from]!, drops[to]!];
      const details: Record<string, unknown> = {
        p: prob,
        tolerance: p.tolerance,
        algorithm1: Object.fromEntries(
          Object.entries(drops).map(([e, d]) => [e, { tries: d.tries, toleranceMet: d.toleranceMet, lineExcessOnSearch: d.lineExcess, droppedFraction: d.droppedFraction, kept: d.kept }]),
        ),
      };
      let path: ParamPath;
      if (narrow) {
        const E = narrowSlots(widths, dB.kept, narrow.widths);
        path = theorem3Path(ctx.spec, A, dA, B, dB, embedNarrow(ctx.spec, A, narrow.spec, narrow.params, E), E, name);
        Object.assign(details, { narrow: { widths: narrow.widths, train: narrow.train, test: narrow.test, slots: E } });
      } else {
        path = theorem2Path(ctx.spec, A, dA, B, dB, name);
      }
      const last = path.segments.length - 1;
      const Lstar = narrow?.train.loss;
      return {
        path,
        expectedSegments: narrow ? 13 : 10,
        details,
        bound: (points) => {
          const eA = maxOnSegment(path, points, 0) - LA;
          const eB = maxOnSegment(path, points, last) - LB;
          const value = Math.max(LA + eA, LB + eB, Lstar ?? -Infinity);
          return {
            value,
            epsilon: Math.max(eA, eB),
            formula: narrow
              ? 'max(L_A + ε_A, L_B + ε_B, L(θ*)), ε_X = measured excess on the straight segment θ_X ↔ θ^X_1'
              : 'max(L_A + ε_A, L_B + ε_B), ε_X = measured excess on the straight segment θ_X ↔ θ^X_1',
          };
        },
      };
    }
    case 'dropout-line': {
      const v = await droppedVersion(ctx.spec, A, {
        p: p.p,
        minAcc: p.minAcc,
        maxTries: p.maxTries,
        scale: p.scale,
        seed: deriveSeed(ctx.recipe.seed, `dropout-line:${name}`),
        search: ctx.searchSplit(p.searchSamples),
        signal: ctx.signal,
      });
      const path = linearPath(A, v.theta1, name);
      path.method = 'dropout-line';
      return {
        path,
        expectedSegments: 1,
        details: { p: p.p, scale: p.scale, keptSizes: v.kept.map((k) => k.length), tries: v.tries, minAcc: p.minAcc, accepted: v.accepted, searchAcc: v.search.acc, kept: v.kept },
      };
    }
  }
}

function buildCheck(c: Construction, A: HostParams, B: HostParams, v: PathVerification, points: PathPoint[], maxTrain: { value: number; t: number }): PathCheck {
  const path = c.path;
  const endpoints = {
    startsAtA: paramsEqual(path.vertices[0]!, A),
    endsAtB: paramsEqual(path.vertices[path.vertices.length - 1]!, B),
  };
  const bound = c.bound?.(points);
  const segmentCount = { expected: c.expectedSegments, actual: path.segments.length, pass: c.expectedSegments === path.segments.length };
  const lossBound = bound
    ? { maxTrainLoss: maxTrain.value, t: maxTrain.t, bound: bound.value, epsilon: bound.epsilon, formula: bound.formula, pass: maxTrain.value <= bound.value + BOUND_SLACK }
    : undefined;
  const pass =
    endpoints.startsAtA && endpoints.endsAtB && segmentCount.pass && v.functionPreserving.pass && v.topLayerOnly.pass && (lossBound?.pass ?? true);
  return { pass, endpoints, segmentCount, ...v, ...(lossBound ? { lossBound } : {}) };
}

export async function buildAndEvaluatePath(ctx: ExperimentContext, p: PathConfig, index: number): Promise<{ result: PathResult; path: ParamPath }> {
  const name = pathName(ctx.recipe, index);
  const { from, to } = pathEnds(ctx.recipe, p);
  const c = await construct(ctx, p, name, from, to);
  const ts = tGrid(c.path, p.type === 'linear' || p.type === 'dropout-line' ? { points: p.points } : { perSegment: p.perSegment });
  const ev = await evaluatePathStructured(ctx.spec, c.path, ts, ctx.splits, ctx.checkX, {
    onProgress: ctx.onProgress,
    signal: ctx.signal,
    stage: `path:${name}`,
    label: `path ${name}`,
  });
  const barrier = barrierOf(ev.points);
  const end = p.type === 'dropout-line' ? c.path.vertices[1]! : ctx.weights.get(to)!;
  const check = buildCheck(c, ctx.weights.get(from)!, end, ev.verification, ev.points, barrier.train.maxLoss);
  return {
    path: c.path,
    result: { name, kind: c.path.method, from, to, segments: c.path.segments, points: ev.points, barrier, cost: ev.cost, check, construction: c.details },
  };
}
