/**
 * Types shared with the main side — imported as TYPES only (`import type`), plus two constants from modules whose
 * imports are all types: the list of api operations (api/wire-types.ts) and the run statuses (store/types.ts). The
 * renderer bundles nothing else from src-main, and src-renderer has no Node imports.
 */
export { WIRE_OPS } from '../../../src-main/api/wire-types';
export { ACTIVE_STATUSES, FINAL_STATUSES, RUN_STATUSES } from '../../../src-main/store/types';
export type {
  ApiEvent,
  AppInfo,
  BackendInfo,
  BackendsInfo,
  DataDirCheck,
  Envelope,
  ListQuery,
  ListResult,
  PathBrief,
  PresetInfo,
  QuickBenchOutcome,
  RecipeEstimate,
  RecipeIssue,
  RecipeValidation,
  RunDetail,
  RunRow,
  RunRowsResult,
  RunStatus,
  RunSummary,
  StartRunRequest,
  StartStudyRequest,
  StoredRunDocument,
  StudyCellChange,
  StudyDocument,
  StudyEstimate,
  StudyEvent,
  StudyPlanInfo,
  StudySummary,
  TagCount,
  WireApi,
  WireError,
  WireOp,
  WsServerMessage,
} from '../../../src-main/api/wire-types';
export type { ImportChoice, MenuCommand, ModelabBridge, SaveKind } from '../../../src-main/electron/shell-types';
export type { ImportResult } from '../../../src-main/api/contract';
export type {
  EndpointResult,
  PathCheck,
  PathResult,
  PlaneResult,
  RunResult,
  StabilityReport,
  SweepPoint,
  NarrowPoint,
} from '../../../src-main/engine/experiment/result';
export type { Barrier, BarrierValue, PathPoint, SplitBarrier } from '../../../src-main/engine/eval/barrier';
export type { Segment, SegmentKind } from '../../../src-main/engine/paths/path';
export type { CurvePoint } from '../../../src-main/engine/train/loop';
export type { ProgressEvent } from '../../../src-main/engine/util/progress';
export type { Distribution, LayerNoiseStats, NoiseStability } from '../../../src-main/engine/theory/noise-stability';
export type { DropoutStability } from '../../../src-main/engine/theory/dropout-stability';
