/**
 * The shared study folder a Slurm study works in (on a file system the login node and the compute nodes both see):
 *
 *   cells/<i>.json         cell i's recipe
 *   runs/<i>/              cell i's run, as `modelab run --no-store --out` writes it (importable: store/bundle.ts)
 *   logs/<job>_<i>.log     the task's stdout and stderr (one file per submission of the cell)
 *   exit/<job>_<i>         the task's exit code, written by the job script itself when the run ends
 *   slurm/study.sbatch     the array job script (script.ts)
 *   slurm/state.json       submissions and collected runs (executor.ts)
 */
import path from 'node:path';

export const STUDY_LAYOUT = {
  cells: 'cells',
  runs: 'runs',
  logs: 'logs',
  exit: 'exit',
  script: 'slurm/study.sbatch',
  state: 'slurm/state.json',
} as const;

/** A Slurm array task's id, `<array job id>_<task index>`, as squeue and the job script name it. */
export const taskId = (jobId: string, cell: number): string => `${jobId}_${cell}`;

export const cellFile = (dir: string, cell: number): string => path.join(dir, STUDY_LAYOUT.cells, `${cell}.json`);
export const runDir = (dir: string, cell: number): string => path.join(dir, STUDY_LAYOUT.runs, String(cell));
export const logFile = (dir: string, task: string): string => path.join(dir, STUDY_LAYOUT.logs, `${task}.log`);
export const exitFile = (dir: string, task: string): string => path.join(dir, STUDY_LAYOUT.exit, task);
