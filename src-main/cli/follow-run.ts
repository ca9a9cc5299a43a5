/**
 * What `modelab run` prints as a run goes and when it ends, built from the fold of the run's events
 * (engine/experiment/run-so-far.ts applyRunEvent): the events the run emits in this process (--no-store), or those the
 * job's owner re-emits (jobs/runner.ts), folded alike.
 */
import type { FoldableRunEvent } from '../engine/experiment/events';
import { type RunSoFar, applyRunEvent, emptyRun, finishedRun } from '../engine/experiment/run-so-far';
import { ProgressRenderer } from './progress';
import { runSummary } from './summary';

export class RunFollower {
  private run: RunSoFar = emptyRun;
  private checkpointCount = 0;

  constructor(private readonly progress = new ProgressRenderer()) {}

  apply(e: FoldableRunEvent): void {
    this.run = applyRunEvent(this.run, e);
    if (e.kind === 'progress') this.progress.update(this.run.progress[e.progress.stage]!);
    else if (e.kind === 'checkpoint') this.checkpointCount++;
  }

  /** Training checkpoints told so far. */
  get checkpoints(): number {
    return this.checkpointCount;
  }

  /** Ends the live progress line (before printing anything else). */
  finishLine(): void {
    this.progress.finishLine();
  }

  /** The summary of the finished run, as its events told it (every event up to 'done' came). */
  summary(): string {
    return runSummary(finishedRun(this.run));
  }
}
