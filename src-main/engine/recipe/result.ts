/** The document a run produces (`--json` prints it; docs/run-json.md describes it). */
import type { BackendName } from '../backend/backends';
import type { Barrier, PathPoint } from '../eval/barrier';
import type { Metrics } from '../eval/evaluate';
import type { Normalization } from '../data/dataset';
import type { ArchSpec } from '../nn/spec';
import type { Segment } from '../paths/path';
import type { CurvePoint } from '../train/loop';
import type { Recipe } from './schema';

export const RUN_SCHEMA = 'modelab.run/1';

export interface EndpointResult {
  name: string;
  seed: number;
  train: Metrics;
  test: Metrics;
  training: { steps: number; samples: number; seconds: number; samplesPerSec: number; curve: CurvePoint[] };
}

export interface PathResult {
  name: string;
  /** The construction: 'linear', … */
  kind: string;
  from: string;
  to: string;
  segments: Segment[];
  points: PathPoint[];
  barrier: Barrier;
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
  config: Recipe;
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
  paths: PathResult[];
  /** Wall-clock seconds per stage. */
  timings: Record<string, number>;
}
