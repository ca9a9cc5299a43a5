/** The recipe's 2D loss plane: through θ_from, θ_to and a path vertex, evaluated on a grid, with every path projected. */
import { DeviceSplit } from '../eval/evaluate';
import { featureCount } from '../data/dataset';
import type { HostParams } from '../nn/params';
import { hasBatchNorm, isBatchNormStat } from '../nn/spec';
import type { ParamPath } from '../paths/path';
import { evaluatePlaneGrid, planeCoordinates, planeFrame, planeGrid, projectPath } from '../plane/plane';
import { InputError } from '../util/errors';
import type { ExperimentContext } from './context';
import type { PathResult, PlaneResult } from './result';
import { stageKey } from '../recipe/plan';
import type { PlaneConfig } from '../recipe/schema';

/** The default third point: π(θ_B) of the first aligned path, else the first free control point of the first curve. */
function defaultThird(built: { result: PathResult; path: ParamPath }[]): { path: string; vertex: number } | null {
  const aligned = built.find((b) => b.result.kind.startsWith('aligned-'));
  if (aligned) return { path: aligned.result.name, vertex: aligned.path.vertices.length - 1 };
  const curve = built.find((b) => b.result.kind === 'bezier' || b.result.kind === 'polychain');
  if (curve) return { path: curve.result.name, vertex: 1 };
  return null;
}

function label(kind: string, vertex: number, count: number): string {
  if (kind.startsWith('aligned-') && vertex === count - 1) return 'π(θ_B)';
  if (kind.includes('bezier')) return `Bézier control point ${vertex}`;
  if (kind.includes('polychain')) return `bend ${vertex}`;
  return `vertex ${vertex}`;
}

export async function buildPlane(ctx: ExperimentContext, cfg: PlaneConfig, built: { result: PathResult; path: ParamPath }[]): Promise<PlaneResult> {
  const t0 = performance.now();
  const names = ctx.recipe.endpoints.map((e) => e.name);
  const from = cfg.from ?? names[0]!;
  const to = cfg.to ?? names[1]!;
  const ref = cfg.third ? { path: cfg.third.path, vertex: cfg.third.vertex } : defaultThird(built);
  if (!ref) throw new InputError('plane: no third point (give plane.third)');
  const b = built.find((x) => x.result.name === ref.path);
  if (!b) throw new InputError(`plane.third.path: no path named '${ref.path}'`);
  const n = b.path.vertices.length;
  const vertex = ref.vertex < 0 ? n + ref.vertex : ref.vertex;
  if (vertex < 0 || vertex >= n) throw new InputError(`plane.third.vertex: path ${ref.path} has vertices 0 … ${n - 1}, got ${ref.vertex}`);
  const C = b.path.vertices[vertex]!;
  if (Object.keys(C).some((k) => !isBatchNormStat(k) && C[k]!.data.length !== ctx.weights.get(from)![k]?.data.length)) {
    throw new InputError(`plane.third: vertex ${vertex} of path ${ref.path} has another architecture (a BN-folded path?)`);
  }
  const [A, B] = [ctx.weights.get(from)!, ctx.weights.get(to)!];
  const frame = planeFrame(A, B, C);
  const grid = planeGrid(frame, cfg.size, cfg.margin);
  const f = featureCount(ctx.data);
  const nTest = Math.min(cfg.testSamples, ctx.evalTest.n);
  const test = new DeviceSplit({ x: ctx.evalTest.x.subarray(0, nTest * f), y: ctx.evalTest.y.subarray(0, nTest), n: nTest }, f, ctx.recipe.evaluation.batchSize);
  const train = ctx.searchSplit(cfg.trainSamples);
  try {
    const transform = ctx.batchNorm.active ? await ctx.pointTransform('none', A, B) : undefined;
    const anchors: { role: 'origin' | 'axis' | 'third'; label: string; theta: HostParams }[] = [
      { role: 'origin', label: `θ_${from}`, theta: A },
      { role: 'axis', label: `θ_${to}`, theta: B },
      { role: 'third', label: `${label(b.result.kind, vertex, n)} (${ref.path}, vertex ${vertex})`, theta: C },
    ];
    const at = anchors.map((a) => planeCoordinates(frame, a.theta));
    const r = await evaluatePlaneGrid(ctx.spec, frame, grid, { train, test }, {
      transform,
      extra: at.map((c) => ({ x: c.x, y: c.y })),
      onProgress: ctx.onProgress,
      signal: ctx.signal,
      stage: stageKey.plane,
      label: `loss plane ${cfg.size}×${cfg.size}`,
      // The helpers hold evalTrain / evalTest batched by evaluation.batchSize: `train` and `test` are their prefixes.
      ...(ctx.pointWorkers?.evaluationData?.batchSize === ctx.recipe.evaluation.batchSize
        ? { share: { pool: ctx.pointWorkers, samples: { train: train.n, test: test.n } } }
        : {}),
    });
    return {
      points: anchors.map((a, k) => ({ role: a.role, label: a.label, x: at[k]!.x, y: at[k]!.y, ...r.extra[k]! })),
      third: { path: ref.path, vertex },
      basis: { lengthAB: frame.lengthAB, thirdAlong: frame.p, thirdAcross: frame.q },
      grid: { size: cfg.size, margin: cfg.margin, xs: r.xs, ys: r.ys },
      train: r.train,
      test: r.test,
      paths: built.filter((x) => x.path.vertices[0]!['A1.w']!.data.length === A['A1.w']!.data.length && !(x.result.kind === 'theorem1' && x.result.construction.foldedBatchNorm)).map((x) => projectPath(frame, x.path, x.result.points.map((p) => p.t))),
      samples: { train: train.n, test: test.n },
      batchNorm: hasBatchNorm(ctx.spec) ? (transform ? 'recomputed' : 'interpolated') : 'none',
      cost: r.cost,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    test.dispose();
  }
}
