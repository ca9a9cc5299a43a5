/**
 * The api's study operations (contract.ts): list, read, start or resume, cancel and delete studies, with their
 * progress as events. A study started here runs on this machine (the local executor) through the api's own job
 * runner, so its cells' run events reach the api's subscribers like any run's.
 */
import path from 'node:path';
import { loadStudyPreset } from '../engine/study/presets';
import { type FileRoots, recipeFiles } from '../engine/recipe/files';
import { type StudyCell, resolveStudy } from '../engine/study/expand';
import { InputError, fieldError } from '../engine/util/errors';
import type { JobRunner } from '../jobs/runner';
import type { HistoryStore } from '../store/history';
import { type StudyRecord, coordinatorAlive, findStudy, listStudies } from '../store/studies';
import { type StudyPlan, cancelStudy, deleteStudy, listStudySummaries, planStudy, runStudy, storeStudy, studyDocument } from '../study/coordinator';
import { LocalExecutor } from '../study/local-executor';
import type { ModeLabApi, StartStudyRequest, StudyEvent } from './contract';

type StudyOps = Pick<ModeLabApi, 'listStudies' | 'getStudy' | 'estimateStudy' | 'startStudy' | 'waitForStudy' | 'cancelStudy' | 'deleteStudy' | 'subscribeStudies'>;

/**
 * A server's check of a study cell's files: each under its folders (FileRoots), and absolute — a stored study is
 * expanded again when its cells run, so a relative path would be read from the working folder, not where it was
 * checked.
 */
function checkCellFiles(cell: StudyCell, roots: FileRoots, dataDir: string | undefined): void {
  const where = `study cell ${cell.index}${cell.label ? ` (${cell.label})` : ''}`;
  const relative = recipeFiles(cell.recipe).find((f) => !path.isAbsolute(f.path));
  if (relative) throw fieldError(where, relative.field, `${relative.path}: a study started on a server names its files by absolute path`);
  try {
    roots.checkRecipe(cell.recipe, dataDir);
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`${where}: ${e.message}`);
    throw e;
  }
}

export function studyApi(store: HistoryStore, runner: () => JobRunner, roots?: FileRoots): { ops: StudyOps; close(): Promise<void> } {
  const listeners = new Set<(e: StudyEvent) => void>();
  const emit = (e: StudyEvent): void => {
    for (const l of listeners) {
      try {
        l(e);
      } catch {
        // a listener's failure is not the study's
      }
    }
  };
  const running = new Map<string, { ctl: AbortController; done: Promise<{ status: string }> }>();

  /** The study a request names, planned (every cell validated and checked to fit, the time estimated). */
  async function planned(req: StartStudyRequest): Promise<{ stored: StudyRecord | null; plan: StudyPlan }> {
    const given = [req.preset, req.study, req.resume].filter((x) => x !== undefined).length;
    if (given !== 1) throw new InputError('give exactly one of a study preset, a study recipe and a stored study to resume');
    if (req.resume !== undefined && req.quick) throw new InputError('quick applies to a new study; a stored study resumes as it was planned');
    if (req.jobs !== undefined && (!Number.isSafeInteger(req.jobs) || req.jobs < 1)) throw new InputError(`jobs must be a positive integer, got ${String(req.jobs)}`);
    const stored = req.resume !== undefined ? await findStudy(store.db, req.resume) : null;
    const recipe = stored?.recipe ?? (req.preset !== undefined ? loadStudyPreset(req.preset, { quick: req.quick }) : resolveStudy(req.study, 'study', { quick: req.quick }));
    const plan = await planStudy(recipe, { parallel: req.jobs, backend: req.backend });
    if (roots) for (const c of plan.cells) checkCellFiles(c, roots, req.dataDir);
    return { stored, plan };
  }

  const ops: StudyOps = {
    listStudies: () => listStudySummaries(store, () => listStudies(store.db)),
    getStudy: (ref) => studyDocument(store, ref),

    async estimateStudy(req) {
      const { plan } = await planned(req);
      return { name: plan.study.name, cells: plan.cells.length, axes: plan.study.axes.map((a) => a.field), trials: plan.study.trials, estimate: plan.estimate };
    },

    async startStudy(req) {
      const { stored, plan } = await planned(req);
      if (stored && (running.has(stored.id) || coordinatorAlive(stored))) throw new InputError(`study ${stored.id} is already running; cancel it first`);
      const record = stored ?? (await storeStudy(store, plan, 'local'));
      const ctl = new AbortController();
      const executor = new LocalExecutor(runner(), plan.estimate.parallel);
      const done = runStudy(store, record.id, {
        executor,
        signal: ctl.signal,
        backend: req.backend,
        dataDir: req.dataDir,
        cellSeconds: plan.estimate.cellSeconds,
        onProgress: (progress) => emit({ type: 'study', studyId: record.id, progress }),
        onStarted: () => emit({ type: 'study-status', studyId: record.id, status: 'running' }),
        onCell: (cell) => emit({ type: 'study-cell', studyId: record.id, cell }),
      })
        .then((r) => {
          emit({ type: 'study-status', studyId: record.id, status: r.status });
          return { status: r.status as string };
        })
        .catch((e: unknown) => {
          emit({ type: 'study-status', studyId: record.id, status: 'failed', error: (e as Error).message });
          return { status: 'failed' };
        })
        .finally(() => running.delete(record.id));
      running.set(record.id, { ctl, done });
      return { id: record.id, cells: plan.cells.length, estimate: plan.estimate };
    },

    async waitForStudy(ref) {
      const s = await findStudy(store.db, ref);
      const r = running.get(s.id);
      return r ? r.done : { status: s.status };
    },

    async cancelStudy(ref) {
      const s = await findStudy(store.db, ref);
      running.get(s.id)?.ctl.abort();
      return cancelStudy(store, s.id);
    },

    async deleteStudy(ref, runs) {
      if (runs !== 'delete' && runs !== 'keep') throw new InputError("say what happens to the study's runs: 'delete' or 'keep'");
      return deleteStudy(store, ref, runs === 'delete');
    },

    subscribeStudies(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };

  return {
    ops,
    async close() {
      for (const r of running.values()) r.ctl.abort();
      await Promise.all([...running.values()].map((r) => r.done));
    },
  };
}
