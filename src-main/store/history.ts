/**
 * The experiment history: runs in SQLite (schema in migrations/), weights and path vertices in the artifact folder.
 * HistoryStore is the one handle the app holds; each concern lives in its own module, over the same database and
 * artifact folder (StoreParts):
 *
 *   run-lifecycle.ts    create, start, heartbeat, finish, final statuses, cancel requests
 *   crash-detection.ts  runs whose job is gone
 *   run-results.ts      each stage's results as the job completes it (recorded-event.ts: one save per event kind)
 *   run-writes.ts       the rows of a run's results (shared by the stage saves and import)
 *   run-queries.ts      ids from prefixes, the run list, one run's summary and detail
 *   listing.ts          the history table's extra columns and the tag counts
 *   annotations.ts      tags, notes, name, colour
 *   gc.ts               deleting runs, orphaned artifacts, stale staged files
 *   run-import.ts       a whole run from a bundle
 *   run-document.ts     a stored run's run document and history record
 */
import { ArtifactStore, type StagedArtifact } from './artifacts';
import type { BundleHistoryRecord, BundleRunDocument } from './bundle-schema';
import type { EndpointResult, PathResult, PlaneResult, RunResult, StabilityReport } from '../engine/experiment/result';
import type { CurvePoint } from '../engine/train/loop';
import { addTags, removeTags, rename, setColour, setNotes } from './annotations';
import { type CrashDetection, detectCrashed } from './crash-detection';
import { type GcOptions, collectGarbage, deleteRuns, dropOrphans } from './gc';
import { type HistoryLocation, resolveLocation } from './location';
import { type OpenDatabaseOptions, openDatabase } from './open';
import { type ImportedArtifact, insertRun } from './run-import';
import { type CreateRunInput, cancelRequested, createRun, finishRun, heartbeat, markStarted, requestCancel, setStatus } from './run-lifecycle';
import { listRuns, resolveId, runDetail, runExists, runSummary } from './run-queries';
import { appendCurve, saveCheckpoint, saveEndpoint, saveEnvironment, saveEvalData, savePath, savePlane, saveStability } from './run-results';
import { ensureSpaceReserve, releaseSpaceReserve, spaceReservePath } from './space-reserve';
import type { Database } from './sqlite';
import type { StoreParts } from './store-parts';
import type { CheckpointRecord, ListQuery, ListResult, RunDetail, RunEnvironment, RunStatus, RunSummary } from './types';

export type { CreateRunInput } from './run-lifecycle';
export type { CrashDetection } from './crash-detection';
export { pidAlive } from './crash-detection';
export type { ImportedArtifact } from './run-import';

export class HistoryStore implements StoreParts {
  readonly artifacts: ArtifactStore;

  private constructor(
    readonly db: Database,
    readonly location: HistoryLocation,
  ) {
    this.artifacts = new ArtifactStore(location.artifactsDir);
  }

  /** Opens (creating or migrating) the history at `location` (default: MODELAB_HOME or the data directory). */
  static async open(location: HistoryLocation | { db?: string } = {}, opts: OpenDatabaseOptions = {}): Promise<HistoryStore> {
    const loc = 'dbPath' in location ? location : resolveLocation({ db: location.db });
    const db = await openDatabase(loc.dbPath, opts);
    return new HistoryStore(db, loc);
  }

  close(): Promise<void> {
    return this.db.close();
  }

  /** Opened read-only (the file or its disk cannot be written here): reads work, every write says why it cannot. */
  get readOnly(): boolean {
    return this.db.readonly;
  }

  // disk space (space-reserve.ts)
  get spaceReservePath(): string {
    return spaceReservePath(this.location);
  }
  ensureSpaceReserve(): void {
    if (!this.readOnly) ensureSpaceReserve(this.location);
  }
  releaseSpaceReserve(): boolean {
    return releaseSpaceReserve(this.location);
  }

  // reading (run-queries.ts)
  resolveId(idOrPrefix: string): Promise<string> {
    return resolveId(this, idOrPrefix);
  }
  exists(id: string): Promise<boolean> {
    return runExists(this, id);
  }
  list(q: ListQuery = {}): Promise<ListResult> {
    return listRuns(this, q);
  }
  summary(idOrPrefix: string): Promise<RunSummary> {
    return runSummary(this, idOrPrefix);
  }
  get(idOrPrefix: string): Promise<RunDetail> {
    return runDetail(this, idOrPrefix);
  }

  // a job's life (run-lifecycle.ts, crash-detection.ts)
  createRun(input: CreateRunInput): Promise<string> {
    return createRun(this, input);
  }
  markStarted(id: string, pid: number | null, host?: string): Promise<void> {
    return markStarted(this, id, pid, host);
  }
  heartbeat(ids: string[], now?: number): Promise<void> {
    return heartbeat(this, ids, now);
  }
  finish(id: string, result: RunResult): Promise<void> {
    return finishRun(this, id, result);
  }
  setStatus(id: string, status: RunStatus, opts?: { error?: string | null; from?: RunStatus[] }): Promise<boolean> {
    return setStatus(this, id, status, opts);
  }
  requestCancel(id: string): Promise<void> {
    return requestCancel(this, id);
  }
  cancelRequested(ids: string[]): Promise<string[]> {
    return cancelRequested(this, ids);
  }
  detectCrashed(opts?: CrashDetection): Promise<string[]> {
    return detectCrashed(this, opts);
  }

  // results as each stage completes (run-results.ts)
  saveEnvironment(id: string, env: RunEnvironment): Promise<void> {
    return saveEnvironment(this, id, env);
  }
  appendCurve(id: string, endpoint: string, points: CurvePoint[]): Promise<void> {
    return appendCurve(this, id, endpoint, points);
  }
  saveCheckpoint(id: string, c: CheckpointRecord, weights: StagedArtifact): Promise<void> {
    return saveCheckpoint(this, id, c, weights);
  }
  saveEndpoint(id: string, index: number, e: EndpointResult, weights?: StagedArtifact): Promise<void> {
    return saveEndpoint(this, id, index, e, weights);
  }
  saveEvalData(id: string, data: StagedArtifact): Promise<void> {
    return saveEvalData(this, id, data);
  }
  saveStability(id: string, stability: StabilityReport): Promise<void> {
    return saveStability(this, id, stability);
  }
  savePath(id: string, index: number, p: PathResult, vertices?: StagedArtifact): Promise<void> {
    return savePath(this, id, index, p, vertices);
  }
  savePlane(id: string, plane: PlaneResult): Promise<void> {
    return savePlane(this, id, plane);
  }

  // annotations.ts
  addTags(idOrPrefix: string, tags: string[]): Promise<string> {
    return addTags(this, idOrPrefix, tags);
  }
  removeTags(idOrPrefix: string, tags: string[]): Promise<string> {
    return removeTags(this, idOrPrefix, tags);
  }
  setNotes(idOrPrefix: string, notes: string): Promise<string> {
    return setNotes(this, idOrPrefix, notes);
  }
  rename(idOrPrefix: string, name: string): Promise<string> {
    return rename(this, idOrPrefix, name);
  }
  setColour(idOrPrefix: string, colour: string | null): Promise<string> {
    return setColour(this, idOrPrefix, colour);
  }

  // deletion and housekeeping (gc.ts)
  delete(ids: string[]): Promise<{ runs: number; artifactsRemoved: number }> {
    return deleteRuns(this, ids);
  }
  dropOrphans(candidates?: string[]): Promise<number> {
    return dropOrphans(this, candidates);
  }
  gc(opts?: GcOptions): Promise<{ orphans: number; staged: number; files: number }> {
    return collectGarbage(this, opts);
  }

  // run-import.ts
  insertRun(record: BundleHistoryRecord, doc: BundleRunDocument, artifacts: ImportedArtifact[]): Promise<string> {
    return insertRun(this, record, doc, artifacts);
  }
}
