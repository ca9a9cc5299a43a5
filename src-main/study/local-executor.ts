/**
 * The local executor: a pool of `parallel` cells at once on this machine, each cell a job of the job runner (its own
 * process, stored as it progresses) exactly as `modelab run` runs one. A cell's run is created and linked to the
 * study only when the pool starts it, so a stopped study leaves no queued runs behind.
 */
import { resolveRecipeFiles } from '../engine/recipe/files';
import type { JobRunner } from '../jobs/runner';
import { linkRun } from '../store/studies';
import type { ExecutorContext, StudyExecutor } from './executor';

export class LocalExecutor implements StudyExecutor {
  readonly kind = 'local' as const;

  constructor(
    private readonly runner: JobRunner,
    readonly parallel: number,
  ) {}

  async run(ctx: ExecutorContext): Promise<'settled'> {
    const { store, study, cells, signal } = ctx;
    const running = new Set<string>();
    const onAbort = (): void => {
      for (const id of running) void this.runner.cancel(id);
    };
    signal.addEventListener('abort', onAbort);
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < cells.length && !signal.aborted) {
        const cell = cells[next++]!;
        // A study's recipe is inline: the files it names are relative to the working folder (recorded absolute).
        const recipe = resolveRecipeFiles(cell.recipe, { dir: process.cwd() });
        // The run and its link in one transaction: a coordinator killed here leaves both or neither.
        const id = await store.createRun({ name: recipe.name, preset: null, config: recipe, alongside: (sql, run) => linkRun(sql, study.id, cell.index, cell.trial, run) });
        running.add(id);
        const done = this.runner.submit(id, { recipe, preset: null, backend: ctx.backend, dataDir: ctx.dataDir });
        // Cancelled between the check and the submit: stop it too.
        if (signal.aborted) void this.runner.cancel(id);
        ctx.onChange();
        await done;
        running.delete(id);
        ctx.onChange();
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.max(1, Math.min(this.parallel, cells.length)) }, lane));
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    return 'settled';
  }
}
