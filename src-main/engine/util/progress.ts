/** Progress events: every long computation reports through one callback, which the CLI, jobs and app render. */

export interface ProgressEvent {
  /** Stable id of the stage, e.g. "train:A", "eval:endpoints", "path:linear". */
  stage: string;
  /** Human label, e.g. "train A". */
  label: string;
  done: number;
  total: number;
  /** What `done` counts: steps, points, masks… */
  unit: string;
  /** Seconds since the stage began. */
  elapsedSec: number;
  /** Estimated seconds left, when known. */
  etaSec?: number;
  /** Current numbers worth showing (loss, acc, lr, epoch, samples/s). */
  metrics?: Record<string, number>;
}

export type ProgressFn = (e: ProgressEvent) => void;

/** Tracks one stage and emits events with elapsed time and ETA. */
export class StageTimer {
  private readonly start = performance.now();
  constructor(
    private readonly onProgress: ProgressFn | undefined,
    readonly stage: string,
    readonly label: string,
    readonly total: number,
    readonly unit: string,
  ) {}

  elapsed(): number {
    return (performance.now() - this.start) / 1000;
  }

  report(done: number, metrics?: Record<string, number>): void {
    if (!this.onProgress) return;
    const elapsedSec = this.elapsed();
    const etaSec = done > 0 ? (elapsedSec / done) * (this.total - done) : undefined;
    this.onProgress({ stage: this.stage, label: this.label, done, total: this.total, unit: this.unit, elapsedSec, etaSec, metrics });
  }
}

/** Lets the event loop run (signals, IPC messages) between synchronous tfjs steps. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
