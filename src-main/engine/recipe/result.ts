/** The document a run produces (`--json` prints it; docs/run-json.md describes it). */
import type { BackendName } from '../backend/backends';
import type { Barrier, PathPoint } from '../eval/barrier';
import type { Metrics } from '../eval/evaluate';
import type { Normalization } from '../data/dataset';
import type { ArchSpec } from '../nn/spec';
import type { Segment } from '../paths/path';
import type { PathCost, PathVerification } from '../paths/structured-eval';
import type { DropoutStability } from '../theory/dropout-stability';
import type { NoiseStability } from '../theory/noise-stability';
import type { CurvePoint } from '../train/loop';
import type { AnyRecipe } from './schema';

export const RUN_SCHEMA = 'modelab.run/1';

export interface EndpointResult {
  name: string;
  seed: number;
  train: Metrics;
  test: Metrics;
  training: { steps: number; samples: number; seconds: number; samplesPerSec: number; curve: CurvePoint[] };
}

export interface PathCheck {
  /** All of the checks below hold. */
  pass: boolean;
  /** First vertex equals θ_from and last equals θ_to, bit for bit. */
  endpoints: { startsAtA: boolean; endsAtB: boolean };
  segmentCount: { expected: number; actual: number; pass: boolean };
  /** (b)/(c) segments: output at an interior point against the segment's function, on a check batch. */
  functionPreserving: PathVerification['functionPreserving'];
  /** (a) segments: nothing but A_d changes, and the output is affine in t at an interior point. */
  topLayerOnly: PathVerification['topLayerOnly'];
  /** The proven bound, where the construction has one: measured max train loss against it. */
  lossBound?: { maxTrainLoss: number; t: number; bound: number; epsilon: number; formula: string; pass: boolean };
}

export interface PathResult {
  name: string;
  /** The construction: 'linear', 'theorem1', … */
  kind: string;
  from: string;
  to: string;
  segments: Segment[];
  points: PathPoint[];
  barrier: Barrier;
  /** Forward passes the evaluation used against the naive count. */
  cost: PathCost;
  check: PathCheck;
  /** Construction parameters and measurements (kept sets, r, ε, tries …). */
  construction: Record<string, unknown>;
}

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
  /** Wall-clock seconds per stage. */
  timings: Record<string, number>;
}
