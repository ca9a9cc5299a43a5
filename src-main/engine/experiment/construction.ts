/**
 * What each path kind records of its construction (`PathResult.construction`, docs/run-json.md), typed by the path's
 * `kind`: `PathResult` is a union discriminated by `kind`, so that readers (the naive line's lookup, the plane, the
 * CLI summary) read real fields instead of string keys. Documents written before a field existed may lack it: the
 * history and bundles keep them as they were.
 */
import type { MatchingResult } from '../align/matching';
import type { Barrier } from '../eval/barrier';
import type { Metrics } from '../eval/evaluate';
import type { DropoutStability } from '../theory/dropout-stability';
import type { Kept } from '../theory/kept';
import type { CurveTrainConfig } from '../curves/train';
import type { CurvePoint } from '../train/loop';

/** Per-point renormalisation along a path (nn/renormalize.ts): none, or REPAIR. */
export type Renormalization = 'none' | 'repair';

/** A straight line θ_from → θ_to. */
export interface LinearConstruction {
  renormalize: Renormalization;
}

/** A trained curve's shape and how its free control points were trained (curves/train.ts). */
export interface TrainedCurveConstruction {
  curve: { type: 'bezier'; order: number; freeControlPoints: number } | { type: 'polychain'; bends: number };
  training: {
    optimizer: CurveTrainConfig['optimizer'];
    weightDecayOnCurvePoint: number;
    schedule: CurveTrainConfig['schedule'];
    batchSize: number;
    epochs: number | null;
    trainSamples: number | null;
    steps: number;
    samples: number;
    seconds: number;
    samplesPerSec: number;
    log: CurvePoint[];
    init: string;
  };
  renormalize: Renormalization;
}

/** Theorem 4's counterexample (counterexample-run.ts): a curve trained in host arithmetic, and its bend's metrics. */
export interface CounterexampleCurveConstruction {
  steps: number;
  lr: number;
  bend: Metrics;
}

/** The matching an aligned path was built with, and the naive line's barrier it is compared with. */
export interface Alignment {
  method: string;
  iterations: number;
  converged: boolean;
  objective: MatchingResult['objective'];
  moved: number[];
  seconds: number;
  lapSeconds: number;
  /** Activation matching: the training samples correlated. */
  samples?: number;
  permutation: number[][];
  permutedEndFunction: { maxAbsDiff: number; maxRelDiff: number; tolerance: number; pass: boolean };
  barrierBefore: { source: string; barrier: Barrier };
}

export interface AlignedLineConstruction {
  alignment: Alignment;
  renormalize: Renormalization;
}

export type AlignedCurveConstruction = TrainedCurveConstruction & { alignment: Alignment };

export interface Theorem1Construction {
  /** A BatchNorm network's path is built between its BN-folded endpoints (nn/batchnorm.ts); null without BatchNorm. */
  foldedBatchNorm: { note: string; outputDiff: Record<string, { maxAbsDiff: number; maxRelDiff: number }> } | null;
  keepFraction: number;
  r: number;
  epsilon: Record<string, number>;
  kept: Record<string, Kept>;
  keptSizes: number[];
  chosen: Record<string, DropoutStability['chosen']>;
  dropoutStable: string;
}

export interface Theorem23Construction {
  p: number;
  tolerance: number;
  algorithm1: Record<string, { tries: number; toleranceMet: boolean; lineExcessOnSearch: number; droppedFraction: number[]; kept: Kept }>;
  /** Theorem 3: the narrow network θ* and the slots it is embedded in. */
  narrow?: { widths: number[]; train: Metrics; test: Metrics; slots: number[][] };
  /** L(θ^X_1) of each endpoint's Algorithm 1 network, evaluated on its own. */
  algorithm1Loss: Record<string, number>;
}

export interface DropoutLineConstruction {
  p: number;
  scale: string;
  keptSizes: number[];
  tries: number;
  minAcc: number;
  accepted: boolean;
  searchAcc: number;
  kept: Kept;
}

/** `kind` and `construction` of a path, by kind. */
export type PathConstruction =
  | { kind: 'linear'; construction: LinearConstruction }
  | { kind: 'bezier' | 'polychain'; construction: TrainedCurveConstruction | CounterexampleCurveConstruction }
  | { kind: 'aligned-linear'; construction: AlignedLineConstruction }
  | { kind: 'aligned-bezier' | 'aligned-polychain'; construction: AlignedCurveConstruction }
  | { kind: 'theorem1'; construction: Theorem1Construction }
  | { kind: 'theorem2' | 'theorem3'; construction: Theorem23Construction }
  | { kind: 'dropout-line'; construction: DropoutLineConstruction };

export type PathKind = PathConstruction['kind'];

/** The alignment of an aligned path; undefined for the others. */
export function alignmentOf(p: PathConstruction): Alignment | undefined {
  return p.kind === 'aligned-linear' || p.kind === 'aligned-bezier' || p.kind === 'aligned-polychain' ? p.construction.alignment : undefined;
}
