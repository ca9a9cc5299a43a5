/**
 * The run events the history records (engine/experiment/events.ts), as the job process sends them: the weights an
 * event carried staged as files (jobs/worker.ts), and the one place that persists each kind. Each is also what the
 * fold reads (FoldableRunEvent), so that the front ends fold what the runner re-emits.
 */
import type { RunEvent } from '../engine/experiment/events';
import type { EndpointResult, PathResult } from '../engine/experiment/result';
import type { StagedArtifact } from './artifacts';
import type { HistoryStore } from './history';

export type RecordedRunEvent =
  | Extract<RunEvent, { kind: 'environment' | 'plan' | 'progress' | 'curve' | 'stability' | 'plane' | 'done' }>
  /** A training checkpoint: the history keeps the latest of each endpoint. */
  | { kind: 'checkpoint'; endpoint: string; epoch: number; step: number; weights: StagedArtifact }
  | { kind: 'endpoint'; index: number; endpoint: EndpointResult; weights: StagedArtifact }
  /** The exact evaluation sets (evalDataSafetensors), and their sizes. */
  | { kind: 'eval-data'; data: StagedArtifact; sets: { train: { n: number }; test: { n: number } } }
  | { kind: 'path'; index: number; result: PathResult; vertices: StagedArtifact };

/** Persists one event of run `id`; its staged file, if any, is placed in the same transaction. */
export async function recordRunEvent(store: HistoryStore, id: string, e: RecordedRunEvent): Promise<void> {
  switch (e.kind) {
    case 'checkpoint':
      return store.saveCheckpoint(id, { endpoint: e.endpoint, epoch: e.epoch, step: e.step }, e.weights);
    case 'endpoint':
      return store.saveEndpoint(id, e.index, e.endpoint, e.weights);
    case 'eval-data':
      return store.saveEvalData(id, e.data);
    case 'stability':
      return store.saveStability(id, e.stability);
    case 'path':
      return store.savePath(id, e.index, e.result, e.vertices);
    case 'plane':
      return store.savePlane(id, e.plane);
    case 'curve':
      return store.appendCurve(id, e.endpoint, e.points);
    case 'environment':
    case 'plan': // the environment record is made from both (the job's 'environment' message, jobs/protocol.ts)
    case 'progress': // not kept
    case 'done': // the document comes whole with the job's result
      return;
  }
}

/** The staged file an event carries, if any (to discard when it will not be recorded). */
export function stagedFileOf(e: RecordedRunEvent): StagedArtifact | null {
  switch (e.kind) {
    case 'checkpoint':
    case 'endpoint':
      return e.weights;
    case 'eval-data':
      return e.data;
    case 'path':
      return e.vertices;
    case 'environment':
    case 'plan':
    case 'progress':
    case 'curve':
    case 'stability':
    case 'plane':
    case 'done':
      return null;
  }
}
