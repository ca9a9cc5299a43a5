/**
 * The operations a front end (the desktop window over IPC, a browser over WebSocket) may call. The renderer imports
 * this file with `import type` only; keep it to types and plain constants (no imports with effects). The schemas that validate
 * every call's arguments are in wire.ts; the implementation is createWireApi (wire.ts) over the api contract.
 *
 * Compared with ModeLabApi (contract.ts), the wire surface never takes a path to WRITE to: exports come back as text
 * (csv, json), bundles are saved by the shell (a native save dialog in the app, an HTTP download in the browser), and
 * imports are chosen by the shell (open dialog, upload).
 */
import type { ApiEvent, ListQuery, ListResult, ModeLabApi, QuickBenchOutcome, RecipeEstimate, RunDetail, RunStatus, RunSummary, StartRunRequest, StartStudyRequest, StoredRunDocument, StudyDocument, StudyEstimate, StudyEvent, StudySummary } from './contract';
import type { PathBrief, TagCount } from '../store/listing';
import type { DefaultBackend } from '../engine/backend/names';

export type { PathBrief, TagCount } from '../store/listing';
export type { ApiEvent, ListQuery, ListResult, QuickBenchOutcome, RecipeEstimate, RunDetail, RunStatus, RunSummary, StartRunRequest, StoredRunDocument } from './contract';
export type { StartStudyRequest, StudyCellChange, StudyDocument, StudyEstimate, StudyEvent, StudySummary } from './contract';

export interface AppInfo {
  version: string;
  /** 'electron': the desktop app; 'server': `modelab serve` in a browser. */
  mode: 'electron' | 'server';
  /** The history database file. */
  historyPath: string;
  /** Server platform (where jobs run). */
  platform: string;
  cores: number;
}

/** What a new study would be (ModeLabApi.estimateStudy): its name, cells, axis fields, trials, time here. */
export type StudyPlanInfo = Awaited<ReturnType<ModeLabApi['estimateStudy']>>;

export interface PresetInfo {
  name: string;
  description: string;
}

export interface BackendInfo {
  name: string;
  available: boolean;
  reason?: string;
}

/** The backends of the machine that runs the jobs, and the one a run without a named backend gets there with where
 *  that comes from (engine/backend/backends.ts defaultBackend), in words as `modelab backends` says it. */
export interface BackendsInfo {
  backends: BackendInfo[];
  default: DefaultBackend & { text: string };
}

export interface RecipeIssue {
  /** Where in the recipe, e.g. ['training', 'lr'] or ['paths', 1, 'type']; [] for the whole recipe. */
  path: (string | number)[];
  message: string;
}

export interface RecipeValidation {
  ok: boolean;
  issues: RecipeIssue[];
  /** The recipe with every default filled in (when ok). */
  recipe?: unknown;
  /** A one-line summary of what it will do (architecture, data, paths), when ok. */
  summary?: string;
  /** Help text of each field present, by dotted path ("training.lr"): the schema's descriptions (field-help.ts). */
  help: Record<string, string>;
}

export interface DataDirCheck {
  ok: boolean;
  /** What was found, or why the folder cannot be used. */
  message: string;
  files: string[];
}

export interface RunRow extends RunSummary {
  architecture: string | null;
  /** finishedAt − startedAt in seconds (null while running or never started). */
  durationSec: number | null;
  paths: PathBrief[];
}

export interface RunRowsResult extends Omit<ListResult, 'runs'> {
  runs: RunRow[];
}

/** Every operation of the wire contract. Each takes JSON arguments and resolves to JSON. */
export interface WireApi {
  appInfo(): Promise<AppInfo>;
  presets(): Promise<PresetInfo[]>;
  /** A preset's recipe with every default filled in (to edit and start). */
  presetRecipe(name: string): Promise<unknown>;
  backends(): Promise<BackendsInfo>;
  validateRecipe(recipe: unknown): Promise<RecipeValidation>;
  /** Checks a CIFAR-10 folder (the binary batches) on the machine that runs the jobs; '' checks the copy
   *  `modelab data get cifar10` downloaded there, which a run started without a folder reads. */
  inspectDataDir(dir: string): Promise<DataDirCheck>;
  listRuns(query?: ListQuery): Promise<ListResult>;
  /** listRuns plus what the history table shows: architecture, duration, each path's barrier and check. */
  listRunRows(query?: ListQuery): Promise<RunRowsResult>;
  listTags(): Promise<TagCount[]>;
  getRun(id: string): Promise<RunDetail>;
  getRunDocument(id: string): Promise<StoredRunDocument>;
  startRun(req: StartRunRequest): Promise<{ id: string }>;
  /** What the run would take here (memory, time from the stored bench figures); starts and stores nothing. */
  estimateRun(req: StartRunRequest): Promise<RecipeEstimate>;
  /** Runs the quick bench (about 1½ minutes) on the user's request and keeps its figures. */
  runQuickBench(): Promise<QuickBenchOutcome>;
  cancelRun(id: string): Promise<{ id: string; outcome: 'cancelled' | 'stopping' | 'requested' | 'not-running' }>;
  tagRun(id: string, change: { add?: string[]; remove?: string[] }): Promise<RunSummary>;
  setNotes(id: string, notes: string): Promise<RunSummary>;
  renameRun(id: string, name: string): Promise<RunSummary>;
  setColour(id: string, colour: string | null): Promise<RunSummary>;
  deleteRuns(ids: string[]): Promise<{ ids: string[]; runs: number; artifactsRemoved: number }>;
  /** Path points of many runs as tidy CSV (`run,path,t,split,loss,acc`) or the JSON export, as text. */
  exportText(ids: string[], format: 'csv' | 'json'): Promise<string>;
  /** The study presets (resources/studies/). */
  studyPresets(): Promise<PresetInfo[]>;
  /** Every stored study with its cell counts, newest first. */
  listStudies(): Promise<StudySummary[]>;
  /** A study (id, id prefix or name): its cells and the mean ± std over trials of every metric. */
  getStudy(ref: string): Promise<StudyDocument>;
  /** What a new study would be, before anything starts: its name, cell count and shape, the time it would take here
   *  (from the stored bench figures). Every cell is validated and checked to fit, as when it starts. */
  estimateStudy(req: StartStudyRequest): Promise<StudyPlanInfo>;
  /** Plans (every cell validated), stores and starts a study on the machine that runs the jobs, or resumes one. */
  startStudy(req: StartStudyRequest): Promise<{ id: string; cells: number; estimate: StudyEstimate }>;
  /** Stops the study's coordinator and asks each running cell to stop. */
  cancelStudy(ref: string): Promise<{ id: string; stopping: number }>;
}

export type WireOp = keyof WireApi;
export type WireArgs<K extends WireOp> = Parameters<WireApi[K]>;
export type WireResult<K extends WireOp> = Awaited<ReturnType<WireApi[K]>>;

export interface WireError {
  /** 'ArgumentError' (the call's arguments are invalid), 'InputError' (a bad request), 'NotFound', 'Error'. */
  name: string;
  message: string;
  code?: string;
  /** An InputError about one recipe field: the field and the reason alone (the form shows it at that field). */
  at?: { field: (string | number)[]; reason: string };
}

/** What every call returns over IPC and WebSocket: errors travel as data (Electron keeps only `message` of a throw). */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: WireError };

/** WebSocket messages. Client → server: a call. Server → client: its reply, or a pushed run or study event. */
export interface WsCall {
  id: number;
  op: string;
  args: unknown[];
}
export type WsReply = { id: number } & Envelope<unknown>;
export interface WsPush {
  event: ApiEvent;
}
export interface WsStudyPush {
  studyEvent: StudyEvent;
}
export type WsServerMessage = WsReply | WsPush | WsStudyPush | { hello: AppInfo };

/** IPC channel names: `modelab:<op>` for calls, one channel for pushed run events, one for study events. */
export const IPC_PREFIX = 'modelab:';
export const IPC_EVENT_CHANNEL = 'modelab:event';
export const IPC_STUDY_EVENT_CHANNEL = 'modelab:study-event';

/** Every operation, in one list (the preload exposes one function per name; a test checks it matches WireApi). */
export const WIRE_OPS = [
  'appInfo',
  'presets',
  'presetRecipe',
  'backends',
  'validateRecipe',
  'inspectDataDir',
  'listRuns',
  'listRunRows',
  'listTags',
  'getRun',
  'getRunDocument',
  'startRun',
  'estimateRun',
  'runQuickBench',
  'cancelRun',
  'tagRun',
  'setNotes',
  'renameRun',
  'setColour',
  'deleteRuns',
  'exportText',
  'studyPresets',
  'listStudies',
  'getStudy',
  'estimateStudy',
  'startStudy',
  'cancelStudy',
] as const satisfies readonly WireOp[];

/** Compile-time check: WIRE_OPS names every operation of WireApi. */
type Missing = Exclude<WireOp, (typeof WIRE_OPS)[number]>;
export const WIRE_OPS_COMPLETE: Missing extends never ? true : Missing = true;
