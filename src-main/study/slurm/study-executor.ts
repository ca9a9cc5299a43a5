/**
 * `modelab study run --executor slurm`: a stored study's cells as one Slurm array job (executor.ts), behind the
 * coordinator's executor seam (study/executor.ts). Each cell's run comes into the history with collect, linked to
 * the study like a local cell's run; a task that failed (or was cancelled) becomes a failed (cancelled) run of its
 * cell whose error names the task, its exit code and its log — so the study shows it, and running the study again
 * resubmits exactly the cells without a finished run.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { resolveRecipeFiles } from '../../engine/recipe/files';
import { expandStudy } from '../../engine/study/expand';
import { InputError } from '../../engine/util/errors';
import type { HistoryStore } from '../../store/history';
import { modelabHome } from '../../store/location';
import { type StudyRecord, linkRun, setExecutorState, studyRuns } from '../../store/studies';
import type { ExecutorContext, StudyExecutor } from '../executor';
import {
  type SlurmCellStatus,
  cancelSlurmStudy,
  collectSlurmStudy,
  followSlurmStudy,
  prepareSlurmStudy,
  resubmitSlurmStudy,
  slurmStudySubmitted,
  submitSlurmStudy,
} from './executor';
import type { SlurmOptions } from './script';

export interface SlurmExecutorOptions extends SlurmOptions {
  /** The study folder, shared with the compute nodes (default: $MODELAB_HOME/studies/<study id>). */
  dir?: string;
  /** Follow the job until every task has ended, collecting cells as they finish (default); false: return once submitted. */
  follow?: boolean;
  /** Seconds between polls of the queue while following (default 10). */
  intervalS?: number;
}

/** What the study row keeps of a Slurm study (studies.executor_state_json): where its folder is. */
const stateSchema = z.object({ dir: z.string().min(1) });

/** How a failed task's run names it: its error starts with this, which also tells that the task was recorded. */
const taskMark = (task: string): string => `Slurm task ${task}: `;

/** The last line the run printed as an error (`modelab: …`), from the end of the task's log. */
function lastError(log: string | null): string | null {
  if (!log || !existsSync(log)) return null;
  const size = statSync(log).size;
  const n = Math.min(size, 8192);
  const buf = Buffer.alloc(n);
  const fd = openSync(log, 'r');
  try {
    readSync(fd, buf, 0, n, size - n);
  } finally {
    closeSync(fd);
  }
  const lines = buf.toString('utf8').split('\n').filter((l) => l.startsWith('modelab: '));
  return lines.length ? lines[lines.length - 1]!.slice('modelab: '.length, 'modelab: '.length + 300) : null;
}

export class SlurmExecutor implements StudyExecutor {
  readonly kind = 'slurm' as const;
  /** Slurm decides how many tasks run at once; for the ETA, the cells submitted by the last run. */
  parallel = 1;

  constructor(private readonly o: SlurmExecutorOptions = {}) {}

  /** The study's folder: the one it was submitted from, else the option, else one under MODELAB_HOME. */
  private folderOf(study: StudyRecord): string {
    const known = stateSchema.safeParse(study.executorState);
    if (known.success) return known.data.dir;
    return path.resolve(this.o.dir ?? path.join(modelabHome(), 'studies', study.id));
  }

  async run(ctx: ExecutorContext): Promise<'settled' | 'submitted'> {
    const { store, study } = ctx;
    if (ctx.signal.aborted) return 'settled';
    const dir = this.folderOf(study);
    // Until sbatch has taken the job, the options of this run write the script (a refused partition can be corrected).
    if (!slurmStudySubmitted(dir)) {
      const runArgs = [...(ctx.backend ? ['--backend', ctx.backend] : []), ...(ctx.dataDir ? ['--data', path.resolve(ctx.dataDir)] : []), ...(this.o.runArgs ?? [])];
      // The cells run from the study's folder (cells/<i>.json): the files they name, relative to the working folder
      // here (a study's recipe is inline), are written absolute.
      const recipes = expandStudy(study.recipe).map((c) => resolveRecipeFiles(c.recipe, { dir: process.cwd() }));
      prepareSlurmStudy(dir, recipes, { ...this.o, runArgs });
    }
    await setExecutorState(store.db, study.id, 'slurm', { dir });
    // Finished tasks in first (and failures recorded): what is left to run is then what the coordinator asks for.
    const todo = new Set(ctx.cells.map((c) => c.index));
    const now = (await this.collectInto(store, study, dir)).cells.filter((c) => todo.has(c.cell));
    const fresh = now.filter((c) => c.state === 'unsubmitted').length;
    const failed = now.filter((c) => c.state === 'failed').map((c) => c.cell);
    if (fresh) await submitSlurmStudy(dir);
    if (failed.length) await resubmitSlurmStudy(dir, failed);
    this.parallel = Math.max(1, fresh + failed.length);
    ctx.onChange();
    if (this.o.follow === false) return 'submitted';
    // A cancel stops the tasks; following goes on until Slurm has ended them, so that they are recorded cancelled.
    const onAbort = (): void => void cancelSlurmStudy(dir).catch(() => undefined);
    if (ctx.signal.aborted) onAbort();
    ctx.signal.addEventListener('abort', onAbort);
    try {
      await followSlurmStudy(dir, {
        intervalS: this.o.intervalS,
        onStatus: async () => {
          await this.collectInto(store, study, dir);
          ctx.onChange();
        },
      });
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
    await this.collectInto(store, study, dir);
    return 'settled';
  }

  async collect(ctx: { store: HistoryStore; study: StudyRecord }): Promise<{ imported: number }> {
    if (!stateSchema.safeParse(ctx.study.executorState).success) throw new InputError(`study ${ctx.study.id} was never submitted to Slurm: nothing to collect`);
    return { imported: (await this.collectInto(ctx.store, ctx.study, this.folderOf(ctx.study))).imported };
  }

  /**
   * Imports the finished cells' runs and links them to the study; records each failed task once, as a failed (or
   * cancelled) run of its cell. Safe to repeat: a linked run or a recorded task is not added again.
   */
  private async collectInto(store: HistoryStore, study: StudyRecord, dir: string): Promise<{ imported: number; cells: SlurmCellStatus[] }> {
    const r = await collectSlurmStudy(dir, store);
    const cells = expandStudy(study.recipe);
    const links = await studyRuns(store.db, study.id);
    const linked = new Set(links.map((l) => l.runId));
    for (const c of r.cells) {
      const cell = cells[c.cell];
      if (!cell) continue;
      if (c.state === 'collected' && c.runId && !linked.has(c.runId)) await linkRun(store.db, study.id, c.cell, cell.trial, c.runId);
      if (c.state === 'failed' && c.task && !links.some((l) => l.cell === c.cell && l.error?.startsWith(taskMark(c.task!)))) {
        const why = lastError(c.log);
        const error = `${taskMark(c.task)}${c.reason}${why ? ` (${why})` : ''}; log ${c.log}`;
        const id = await store.createRun({ name: cell.recipe.name, preset: null, config: cell.recipe });
        await store.setStatus(id, c.slurmState === 'CANCELLED' ? 'cancelled' : 'failed', { error, from: ['queued'] });
        await linkRun(store.db, study.id, c.cell, cell.trial, id);
      }
    }
    return { imported: r.imported.length, cells: r.cells };
  }
}
