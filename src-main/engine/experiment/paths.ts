/** Builds the paths a recipe asks for, evaluates them structure-aware, and verifies each construction. */
import * as tf from '@tensorflow/tfjs-core';
import { applyPermutation } from '../align/permutation';
import { type CurveShape, curvePath, straightControls } from '../curves/curve';
import { trainCurve } from '../curves/train';
import { type Barrier, barrierOf } from '../eval/barrier';
import type { Metrics } from '../eval/evaluate';
import { evaluateHost } from '../eval/host';
import { assertNoBatchNorm, foldBatchNorm } from '../nn/batchnorm';
import { forward } from '../nn/forward';
import { type HostParams, disposeParams, toDevice } from '../nn/params';
import { type ArchSpec, hasBatchNorm, layerMacs } from '../nn/spec';
import { type ParamPath, linearPath, tGrid } from '../paths/path';
import { FUNCTION_TOLERANCE, evaluatePathStructured } from '../paths/structured-eval';
import { embedNarrow, withHiddenWidths } from '../theory/embed';
import type { Kept } from '../theory/kept';
import { narrowSlots, theorem2Path, theorem3Path } from '../theory/noise-stable-paths';
import { theorem1Path } from '../theory/theorem1';
import { hiddenWidths } from '../nn/units';
import { train } from '../train/loop';
import { InputError } from '../util/errors';
import { deriveSeed } from '../util/rng';
import type { ExperimentContext } from './context';
import { type RetriedDropout, algorithm1WithRetries, droppedVersion } from './dropout-search';
import { algorithm1SegmentsCheck, buildCheck, type CheckedConstruction, lemma2MiddleBound } from './path-checks';
import type { Alignment, PathConstruction, TrainedCurveConstruction, Theorem23Construction } from './construction';
import type { PathCheck, PathResult } from './result';
import { curveTrainConfig, pathEnds, pathName, trainingWith } from '../recipe/resolve';
import type { PathConfig, Recipe } from '../recipe/schema';

interface Construction extends CheckedConstruction {
  /** The path's kind and what it records of its construction (construction.ts). */
  made: PathConstruction;
  /** The architecture the path lives in, when not the run's (a BN-folded path). */
  spec?: ArchSpec;
  /** What the first and last vertex must equal bit for bit (default θ_from, θ_to). */
  start?: HostParams;
  end?: HostParams;
  /** The last vertex is a stand-in for θ_to (π(θ_B)): it must compute θ_to's function (checked on the check batch). */
  endStandsFor?: { label: string; original: HostParams };
  /** Evenly spaced evaluation points (curves); otherwise the path's own grid. */
  points?: number;
  renormalize?: 'none' | 'repair';
}

/** Largest |Δ| and relative |Δ| between two networks' logits on a batch (the same-function check). */
async function outputDiff(spec: ArchSpec, a: HostParams, b: HostParams, x: tf.Tensor2D, specB: ArchSpec = spec): Promise<{ maxAbsDiff: number; maxRelDiff: number }> {
  const [da, db] = [toDevice(a), toDevice(b)];
  const [ya, yb] = [forward(spec, da, x), forward(specB, db, x)];
  const [va, vb] = [await ya.data(), await yb.data()];
  [ya, yb].forEach((t) => t.dispose());
  disposeParams(da);
  disposeParams(db);
  let abs = 0;
  let scale = 0;
  for (let i = 0; i < va.length; i++) {
    abs = Math.max(abs, Math.abs(va[i]! - vb[i]!));
    scale = Math.max(scale, Math.abs(va[i]!));
  }
  return { maxAbsDiff: abs, maxRelDiff: abs / Math.max(scale, 1e-12) };
}

function curveShape(type: 'bezier' | 'polychain', c: { order: number } | { bends: number }): CurveShape {
  return type === 'bezier' ? { kind: 'bezier', free: (c as { order: number }).order - 1 } : { kind: 'polychain', free: (c as { bends: number }).bends };
}

/** Trains a curve's free control points between A and B (bends start on the straight line). */
async function trainedCurve(
  ctx: ExperimentContext,
  shape: CurveShape,
  A: HostParams,
  B: HostParams,
  cfg: Parameters<typeof curveTrainConfig>[0],
  name: string,
  method: string,
): Promise<{ path: ParamPath; details: Omit<TrainedCurveConstruction, 'renormalize'> }> {
  const training = curveTrainConfig(cfg);
  const r = await trainCurve(ctx.spec, ctx.data, shape, A, B, straightControls(shape, A, B), training, {
    seed: deriveSeed(ctx.recipe.seed, `curve:${name}`),
    stage: `curve:${name}`,
    label: name === shape.kind ? `train ${name}` : `train ${name} (${shape.kind})`,
    onProgress: ctx.onProgress,
    signal: ctx.signal,
  });
  const details: Omit<TrainedCurveConstruction, 'renormalize'> = {
    curve: shape.kind === 'bezier' ? { type: 'bezier', order: shape.free + 1, freeControlPoints: shape.free } : { type: 'polychain', bends: shape.free },
    training: {
      optimizer: training.optimizer,
      weightDecayOnCurvePoint: training.weightDecay,
      schedule: training.schedule,
      batchSize: training.batchSize,
      epochs: training.epochs ?? null,
      trainSamples: training.trainSamples ?? null,
      steps: r.steps,
      samples: r.samples,
      seconds: r.seconds,
      samplesPerSec: r.samplesPerSec,
      log: r.curve,
      init: 'free control points on the straight line θ_A → θ_B',
    },
  };
  return { path: curvePath(shape, A, r.controls, B, name, method), details };
}

/**
 * A rough estimate of the multiply-accumulates a recipe's paths spend on points evaluated one by one (inside 'line'
 * and 'curve' segments, without per-point renormalisation), on `evalSamples` evaluation samples. Known before the
 * endpoints train: it decides whether a helper process for points is worth starting then (RunOptions.pointWorkers).
 */
export function pointwiseWorkEstimate(recipe: Recipe, spec: ArchSpec, evalSamples: number): number {
  const macs = layerMacs(spec);
  const perPoint = (macs.length > 1 ? macs.slice(1) : macs).reduce((a, b) => a + b, 0) * evalSamples;
  const bnPerPoint = hasBatchNorm(spec) && (recipe.evaluation.batchNorm?.recompute ?? true);
  const plain = (renormalize: string | undefined): boolean => !bnPerPoint && (renormalize ?? 'none') === 'none';
  let points = 0;
  for (const p of recipe.paths) {
    switch (p.type) {
      case 'linear':
      case 'bezier':
      case 'polychain':
        if (plain(p.renormalize)) points += p.points - 2;
        break;
      case 'aligned-linear':
        if (plain(p.renormalize)) points += p.points - 2; // the naive line it is compared with
        if (plain(p.curve ? p.curve.renormalize : p.renormalize)) points += (p.curve ? p.curve.points : p.points) - 2;
        break;
      case 'dropout-line':
        if (!bnPerPoint) points += p.points - 2;
        break;
      case 'theorem2':
      case 'theorem3':
        // Two straight segments (θ_X ↔ θ^X_1) among 10 or 13.
        points += 2 * Math.max(0, p.perSegment - 1);
        break;
      case 'theorem1':
        break;
    }
  }
  return points * perPoint;
}

/** The naive straight line's barrier between two endpoints: from a 'linear' path already evaluated in this run with
 *  the same ends and renormalisation, else evaluated here at the same points. */
async function naiveBarrier(ctx: ExperimentContext, from: string, to: string, points: number, renormalize: 'none' | 'repair', name: string): Promise<{ source: string; barrier: Barrier }> {
  const done = ctx.evaluated.find(
    (r) => r.kind === 'linear' && r.from === from && r.to === to && r.construction.renormalize === renormalize,
  );
  if (done) return { source: `path ${done.name}`, barrier: done.barrier };
  const [A, B] = [ctx.weights.get(from)!, ctx.weights.get(to)!];
  const line = linearPath(A, B, `${name}:naive`);
  const ev = await evaluatePathStructured(ctx.spec, line, tGrid(line, { points }), ctx.splits, ctx.checkX, {
    onProgress: ctx.onProgress,
    signal: ctx.signal,
    stage: `path:${name}:naive`,
    label: `naive line for ${name}`,
    pointParams: await ctx.pointTransform(renormalize, A, B),
    pointWorkers: ctx.pointWorkers,
  });
  return { source: 'evaluated for this path', barrier: barrierOf(ev.points) };
}

/** The segment count each theorem's path has (arXiv:1906.06247 §3 Theorem 1, §4 Theorems 2 and 3): Theorem 1 8d − 4 for
 *  a depth-d network, Theorem 2 10 (1 + 8 + 1), Theorem 3 13 (1 + 8 + 3 + 1). Preset descriptions quote these
 *  (test/engine/presets.test.ts). */
export function theoremSegments(type: 'theorem1' | 'theorem2' | 'theorem3', d: number): number {
  return type === 'theorem1' ? 8 * d - 4 : type === 'theorem2' ? 10 : 13;
}

const half = (widths: number[]) => (kept: Kept) => kept.every((k, idx) => k.length <= Math.floor(widths[idx]! / 2));

async function construct(ctx: ExperimentContext, p: PathConfig, name: string, from: string, to: string): Promise<Construction> {
  const A = ctx.weights.get(from)!;
  const B = ctx.weights.get(to)!;
  const d = ctx.spec.layers.length;
  if (hasBatchNorm(ctx.spec) && p.type !== 'linear' && p.type !== 'bezier' && p.type !== 'polychain' && p.type !== 'aligned-linear') {
    if (p.type !== 'theorem1' || !p.foldBatchNorm) assertNoBatchNorm(ctx.spec, `path ${name} (${p.type})`);
  }
  switch (p.type) {
    case 'linear':
      return { path: linearPath(A, B, name), expectedSegments: 1, made: { kind: 'linear', construction: { renormalize: p.renormalize ?? 'none' } }, renormalize: p.renormalize ?? 'none' };
    case 'bezier':
    case 'polychain': {
      const shape = curveShape(p.type, p);
      const c = await trainedCurve(ctx, shape, A, B, p, name, p.type);
      return {
        path: c.path,
        expectedSegments: p.type === 'bezier' ? 1 : shape.free + 1,
        made: { kind: p.type, construction: { ...c.details, renormalize: p.renormalize } },
        points: p.points,
        renormalize: p.renormalize,
      };
    }
    case 'aligned-linear': {
      const m = await ctx.alignment(from, to, { method: p.method, maxIterations: p.maxIterations, samples: p.samples });
      const piB = applyPermutation(ctx.spec, B, m.perm);
      const same = await outputDiff(ctx.spec, B, piB, ctx.checkX);
      const before = await naiveBarrier(ctx, from, to, p.points, p.renormalize, name);
      const alignment: Alignment = {
        method: p.method === 'weight' ? 'weight matching (Git Re-Basin, coordinate descent over per-layer assignments)' : 'activation matching (correlations, one assignment per layer)',
        iterations: m.iterations,
        converged: m.converged,
        objective: m.objective,
        moved: m.moved,
        seconds: m.seconds,
        lapSeconds: m.lapSeconds,
        ...(p.method === 'activation' ? { samples: Math.min(p.samples, ctx.evalTrain.n) } : {}),
        permutation: m.perm.map((q) => Array.from(q)),
        permutedEndFunction: { ...same, tolerance: FUNCTION_TOLERANCE, pass: same.maxRelDiff <= FUNCTION_TOLERANCE },
        barrierBefore: before,
      };
      if (p.curve) {
        const shape = curveShape(p.curve.type, p.curve);
        const c = await trainedCurve(ctx, shape, A, piB, p.curve, name, `aligned-${p.curve.type}`);
        return {
          path: c.path,
          expectedSegments: p.curve.type === 'bezier' ? 1 : shape.free + 1,
          made: { kind: p.curve.type === 'bezier' ? 'aligned-bezier' : 'aligned-polychain', construction: { alignment, ...c.details, renormalize: p.curve.renormalize } },
          end: piB,
          endStandsFor: { label: 'π(θ_B)', original: B },
          points: p.curve.points,
          renormalize: p.curve.renormalize,
        };
      }
      const path = linearPath(A, piB, name);
      path.method = 'aligned-linear';
      return { path, expectedSegments: 1, made: { kind: 'aligned-linear', construction: { alignment, renormalize: p.renormalize } }, end: piB, endStandsFor: { label: 'π(θ_B)', original: B }, points: p.points, renormalize: p.renormalize };
    }
    case 'theorem1': {
      // A BN network's path is built between its BN-folded endpoints (same functions, no BN); see nn/batchnorm.ts.
      const folded = hasBatchNorm(ctx.spec) ? { A: foldBatchNorm(ctx.spec, A), B: foldBatchNorm(ctx.spec, B) } : null;
      const spec = folded?.A.spec ?? ctx.spec;
      const [tA, tB] = folded ? [folded.A.params, folded.B.params] : [A, B];
      const net = (theta: HostParams) => (folded ? { key: 'bn-folded', spec, theta } : undefined);
      const [sA, sB] = [await ctx.dropoutStability(from, p.dropout, net(tA)), await ctx.dropoutStability(to, p.dropout, net(tB))];
      if (p.dropout.keepFraction > 0.5) throw new Error('Theorem 1 needs kept sets of at most half of each layer (keepFraction ≤ 0.5)');
      const r = hiddenWidths(spec).map(() => sA.r);
      const epsilon = Math.max(sA.epsilon, sB.epsilon);
      const LA = ctx.endpointMetrics.get(from)!.train.loss;
      const LB = ctx.endpointMetrics.get(to)!.train.loss;
      const foldCheck = folded ? { [from]: await outputDiff(ctx.spec, A, tA, ctx.checkX, spec), [to]: await outputDiff(ctx.spec, B, tB, ctx.checkX, spec) } : null;
      return {
        path: theorem1Path(spec, tA, sA.kept, tB, sB.kept, r, name),
        expectedSegments: theoremSegments('theorem1', d),
        bound: () => ({ value: Math.max(LA, LB) + epsilon, epsilon, formula: 'max(L_A, L_B) + ε, ε = max over both networks and i of L(θ_i) − L(θ)' }),
        ...(folded ? { spec, start: tA, end: tB } : {}),
        made: {
          kind: 'theorem1',
          construction: {
            foldedBatchNorm: foldCheck ? { note: 'built between the BN-folded endpoints (BN affine folded into the preceding weights and bias)', outputDiff: foldCheck } : null,
            keepFraction: sA.keepFraction,
            r: sA.r,
            epsilon: { [from]: sA.epsilon, [to]: sB.epsilon },
            kept: { [from]: sA.kept, [to]: sB.kept },
            keptSizes: sA.kept.map((k) => k.length),
            chosen: { [from]: sA.chosen, [to]: sB.chosen },
            dropoutStable: epsilon <= 0 ? 'yes (ε ≤ 0)' : `ε = ${epsilon.toPrecision(4)}`,
          },
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
        const r = await train(nSpec, ctx.data, trainingWith(ctx.recipe, p.narrow.training, ['paths', name, 'narrow', 'training']), {
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
      const algorithm1 = Object.fromEntries(
        Object.entries(drops).map(([e, d]) => [e, { tries: d.tries, toleranceMet: d.toleranceMet, lineExcessOnSearch: d.lineExcess, droppedFraction: d.droppedFraction, kept: d.kept }]),
      );
      let path: ParamPath;
      let narrowDetails: Theorem23Construction['narrow'];
      if (narrow) {
        const E = narrowSlots(widths, dB.kept, narrow.widths);
        path = theorem3Path(ctx.spec, A, dA, B, dB, embedNarrow(ctx.spec, A, narrow.spec, narrow.params, E), E, name);
        narrowDetails = { widths: narrow.widths, train: narrow.train, test: narrow.test, slots: E };
      } else {
        path = theorem2Path(ctx.spec, A, dA, B, dB, name);
      }
      // The Lemma 2 middle is bounded by the loss of the networks it joins, evaluated here on their own (not read off
      // the path): the Algorithm 1 networks, and θ* for Theorem 3.
      const LA1 = (await evaluateHost(ctx.spec, dA.theta1, ctx.splits.train)).loss;
      const LB1 = (await evaluateHost(ctx.spec, dB.theta1, ctx.splits.train)).loss;
      const Lstar = narrow?.train.loss;
      const details: Theorem23Construction = { p: prob, tolerance: p.tolerance, algorithm1, ...(narrowDetails ? { narrow: narrowDetails } : {}), algorithm1Loss: { [from]: LA1, [to]: LB1 } };
      // Theorem 2: Õ(ε); Theorem 3 (Lemma 3): Õ(√p·ε), ε of Definition 4 per endpoint.
      const scale = (e: string): number | null => {
        const eps = ctx.noiseStability?.[e]?.definition4.epsilon;
        return eps === undefined ? null : narrow ? Math.sqrt(prob) * eps : eps;
      };
      return {
        path,
        expectedSegments: theoremSegments(p.type, d),
        made: { kind: p.type, construction: details },
        bound: (points) => lemma2MiddleBound(path, points, { LA1, LB1, Lstar }),
        algorithm1Segments: (points) =>
          algorithm1SegmentsCheck(path, points, p.tolerance, [
            { endpoint: from, loss: LA, theoryScale: scale(from) },
            { endpoint: to, loss: LB, theoryScale: scale(to) },
          ], narrow !== null),
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
        onProgress: ctx.onProgress,
        stage: `dropout-search:${name}`,
        label: `dropped version for ${name}`,
      });
      const path = linearPath(A, v.theta1, name);
      path.method = 'dropout-line';
      return {
        path,
        expectedSegments: 1,
        made: {
          kind: 'dropout-line',
          construction: { p: p.p, scale: p.scale, keptSizes: v.kept.map((k) => k.length), tries: v.tries, minAcc: p.minAcc, accepted: v.accepted, searchAcc: v.search.acc, kept: v.kept },
        },
      };
    }
  }
}

/** n evenly spaced values of t in [0, 1]. */
function evenTs(n: number): number[] {
  return Array.from({ length: n }, (_, k) => k / (n - 1));
}

export async function buildAndEvaluatePath(ctx: ExperimentContext, p: PathConfig, index: number): Promise<{ result: PathResult; path: ParamPath }> {
  const name = pathName(ctx.recipe, index);
  const { from, to } = pathEnds(ctx.recipe, p);
  const c = await construct(ctx, p, name, from, to);
  const spec = c.spec ?? ctx.spec;
  const ts =
    c.points !== undefined
      ? evenTs(c.points)
      : tGrid(c.path, p.type === 'linear' || p.type === 'dropout-line' ? { points: p.points } : { perSegment: (p as { perSegment: number }).perSegment });
  const first = c.path.vertices[0]!;
  const last = c.path.vertices[c.path.vertices.length - 1]!;
  const ev = await evaluatePathStructured(spec, c.path, ts, ctx.splits, ctx.checkX, {
    onProgress: ctx.onProgress,
    signal: ctx.signal,
    stage: `path:${name}`,
    label: `path ${name}`,
    pointParams: await ctx.pointTransform(c.renormalize ?? 'none', first, last, spec),
    pointWorkers: ctx.pointWorkers,
  });
  const barrier = barrierOf(ev.points);
  const end = c.end ?? (p.type === 'dropout-line' ? c.path.vertices[1]! : ctx.weights.get(to)!);
  let endFunction: PathCheck['endFunction'];
  if (c.endStandsFor) {
    const diff = await outputDiff(spec, c.endStandsFor.original, last, ctx.checkX);
    endFunction = { vertex: c.endStandsFor.label, ...diff, tolerance: FUNCTION_TOLERANCE, pass: diff.maxRelDiff <= FUNCTION_TOLERANCE };
  }
  const check = buildCheck(c, c.start ?? ctx.weights.get(from)!, end, ev.verification, ev.points, barrier.train.maxLoss, endFunction);
  // `kind` placed second and `construction` last in the document (a key keeps its first place when a later spread
  // sets it again); spreading `made` whole keeps the two correlated for the type.
  const place = { kind: c.made.kind };
  const result: PathResult = { name, ...place, from, to, segments: c.path.segments, points: ev.points, barrier, cost: ev.cost, check, ...c.made };
  ctx.evaluated.push(result);
  return { path: c.path, result };
}
