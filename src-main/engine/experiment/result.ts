/** The document a run produces (`--json` prints it; docs/run-json.md describes it). */
import type { BackendName, BackendRecord } from '../backend/backends';
import type { Metrics } from '../eval/evaluate';
import type { Dataset, Normalization } from '../data/dataset';
import type { ArchSpec } from '../nn/spec';
import type { PathVerification } from '../paths/structured-eval';
import type { DropoutStability } from '../theory/dropout-stability';
import type { NoiseStability } from '../theory/noise-stability';
import type { CurvePoint } from '../train/loop';
import { VERSION } from '../version';
import type { CheckState } from './check-state';
import type { PathConstruction } from './construction';
import type { AnyRecipe } from '../recipe/schema';
import type { PathResultBase } from './result-schema';

export const RUN_SCHEMA = 'modelab.run/1';

export interface EndpointResult {
  name: string;
  seed: number;
  train: Metrics;
  test: Metrics;
  training: { steps: number; samples: number; seconds: number; samplesPerSec: number; curve: CurvePoint[] };
}

/** A proven loss bound: the measured max train loss over `over` (default: the whole path) against it. */
export interface LossBoundCheck {
  maxTrainLoss: number;
  t: number;
  bound: number;
  epsilon: number;
  formula: string;
  pass: boolean;
  /** The part of the path the bound covers, when not all of it (Theorems 2 and 3: the Lemma 2 middle). */
  over?: string;
}

/** Theorems 2 and 3's straight segments θ_X ↔ θ^X_1 (Lemma 3): their excess is bounded only by Õ(ε) (constants and
 *  log factors unknown), so it is measured against the recipe's tolerance — over it is a warning, not a failure. */
export interface Algorithm1SegmentsCheck {
  tolerance: number;
  segments: {
    endpoint: string;
    /** L(θ_X) and the max train loss on its straight segment (at t), and their difference. */
    loss: number;
    maxLoss: number;
    t: number;
    excess: number;
    withinTolerance: boolean;
    /** The theorem's own scale for the excess from the measured noise stability (Definition 4's ε; Theorem 3:
     *  √p·ε), null without `stability.noise`. Õ hides constants and log factors: a scale, not a bound. */
    theoryScale: number | null;
  }[];
  theory: string;
  state: Exclude<CheckState, 'fail'>;
}

export interface PathCheck {
  /** The verdict (check-state.ts); absent in documents from before it (read them with checkStateOf). */
  state?: CheckState;
  /** state === 'pass' (kept for readers of older documents: a warning is not a pass). */
  pass: boolean;
  /** First vertex equals θ_from and last equals θ_to, bit for bit. */
  endpoints: { startsAtA: boolean; endsAtB: boolean };
  segmentCount: { expected: number; actual: number; pass: boolean };
  /** (b)/(c) segments: output at an interior point against the segment's function, on a check batch. */
  functionPreserving: PathVerification['functionPreserving'];
  /** (a) segments: nothing but A_d changes, and the output is affine in t at an interior point. */
  topLayerOnly: PathVerification['topLayerOnly'];
  /** The proven bound, where the construction has one: measured max train loss against it. */
  lossBound?: LossBoundCheck;
  /** Theorems 2 and 3: the Algorithm 1 segments' excess against the recipe's tolerance. */
  algorithm1Segments?: Algorithm1SegmentsCheck;
  /** Aligned paths end at π(θ_B), not θ_B (`endpoints.endsAtB` then compares with π(θ_B)): π(θ_B) must compute
   *  θ_B's function — its logits against θ_B's on the check batch. */
  endFunction?: { vertex: string; maxAbsDiff: number; maxRelDiff: number; tolerance: number; pass: boolean };
  /** Theorem 4 counterexample paths (counterexample-checks.ts): the path's maximum train loss and its t. The theorem
   *  says no path joins the two global minimizers at zero loss: pass when maxLoss > 0 (and every loss is finite). */
  theorem4?: { maxLoss: number; t: number; pass: boolean };
}

/** An evaluated path: its name, ends, segments, points, barrier, cost and check (PathResultBase: declared once, by the
 *  run document's schema, result-schema.ts), `kind` naming the construction ('linear', 'theorem1', …) and typing its
 *  `construction` (parameters and measurements: kept sets, r, ε, tries …; construction.ts). */
export type PathResult = PathResultBase & PathConstruction;

export interface SweepPoint {
  keepFraction: number;
  loss: { mean: number; std: number };
  acc: { mean: number; std: number };
  perEndpoint: Record<string, Metrics>;
}

export interface NarrowPoint {
  width: number;
  loss: { mean: number; std: number };
  acc: { mean: number; std: number };
  testAcc: { mean: number; std: number };
  trials: { seed: number; train: Metrics; test: Metrics }[];
}

export interface StabilityReport {
  /** Definition 1 for each endpoint. */
  dropout?: Record<string, DropoutStability>;
  /** Loss/accuracy of θ_1 against the kept fraction (best of `masks` random kept sets). */
  sweep?: { masks: number; points: SweepPoint[] };
  /** Definitions 2–4 for each endpoint. */
  noise?: Record<string, NoiseStability>;
  /** Narrow networks: train/test metrics against hidden width (mean ± std over trials). */
  narrow?: { trials: number; points: NarrowPoint[] };
}

/** One plane metric over the grid: value[iy][ix] at (xs[ix], ys[iy]) (number*: null where non-finite). */
export interface PlaneSurface {
  loss: number[][];
  acc: number[][];
}

/** The 2D loss plane through three networks (plane/plane.ts; docs/run-json.md "plane"). */
export interface PlaneResult {
  /** The three networks spanning the plane, with their plane coordinates and metrics on the plane's samples:
   *  `origin` = θ_from at (0, 0), `axis` = θ_to at (‖θ_to − θ_from‖, 0), `third` at (p, q), q > 0. */
  points: { role: 'origin' | 'axis' | 'third'; label: string; x: number; y: number; train: Metrics; test: Metrics }[];
  /** Where the third point came from: a path and its vertex index. */
  third: { path: string; vertex: number };
  /** Orthonormal basis by Gram–Schmidt over all coordinates (BN statistics excluded): u along θ_to − θ_from, v the
   *  rest of θ_third − θ_from; coordinates are Euclidean distances in parameter space. */
  basis: { lengthAB: number; thirdAlong: number; thirdAcross: number };
  grid: { size: number; margin: number; xs: number[]; ys: number[] };
  train: PlaneSurface;
  test: PlaneSurface;
  /** Every path's points projected onto the plane: (x, y) and the distance from the plane, per point t. */
  paths: { name: string; t: number[]; x: number[]; y: number[]; offPlane: number[] }[];
  /** Evaluation samples at every grid point (the first n of the evaluation sets). */
  samples: { train: number; test: number };
  /** 'recomputed': BN statistics recomputed at every grid point; 'none': no BatchNorm. */
  batchNorm: 'recomputed' | 'interpolated' | 'none';
  cost: { points: number; fullPassEquivalents: number; factored: boolean };
  seconds: number;
}

export interface RunResult {
  schema: typeof RUN_SCHEMA;
  modelab: string;
  name: string;
  preset: string | null;
  startedAt: string;
  finishedAt: string;
  backend: BackendName;
  device: string;
  tfjsVersion: string;
  backendDetails: Record<string, string | number | boolean>;
  config: AnyRecipe;
  architecture: { spec: ArchSpec; description: string; parameters: number };
  dataset: {
    name: string;
    source: string;
    checksum: string;
    normalization: Normalization;
    inputShape: [number, number, number];
    classes: number;
    trainSize: number;
    testSize: number;
    evalTrainSize: number;
    evalTestSize: number;
  };
  endpoints: EndpointResult[];
  stability?: StabilityReport;
  paths: PathResult[];
  /** The 2D loss plane, when the recipe asks for one. */
  plane?: PlaneResult;
  /** Wall-clock seconds per stage. */
  timings: Record<string, number>;
}

/** What a run records of its dataset (the evaluation subset sizes come later, once the subsets are drawn). */
export function describeDataset(data: Dataset): Omit<RunResult['dataset'], 'evalTrainSize' | 'evalTestSize'> {
  return {
    name: data.name,
    source: data.source,
    checksum: data.checksum,
    normalization: data.normalization,
    inputShape: data.inputShape,
    classes: data.classes,
    trainSize: data.train.n,
    testSize: data.test.n,
  };
}

/** The fields every run document starts with: schema, versions, name, times, backend and recipe. */
export type RunHeader = Pick<RunResult, 'schema' | 'modelab' | 'name' | 'preset' | 'startedAt' | 'finishedAt' | 'backend' | 'device' | 'tfjsVersion' | 'backendDetails' | 'config'>;

/** The header as it is known when the run starts: everything but the finishing time. */
export type RunStart = Omit<RunHeader, 'finishedAt'>;

export function runStart(recipe: AnyRecipe, opts: { preset?: string | null; backend: BackendRecord }, startedAt: string, device: string = opts.backend.device): RunStart {
  return {
    schema: RUN_SCHEMA,
    modelab: VERSION,
    name: recipe.name,
    preset: opts.preset ?? null,
    startedAt,
    backend: opts.backend.backend,
    device,
    tfjsVersion: opts.backend.tfjsVersion,
    backendDetails: device === opts.backend.device ? opts.backend.details : {},
    config: recipe,
  };
}
