/** Renders progress events on stderr: live bars on a terminal, a line per 10% otherwise. */
import type { ProgressEvent } from '../engine/util/progress';

export function formatDuration(sec: number | undefined): string {
  if (sec === undefined || !Number.isFinite(sec)) return '--:--';
  const s = Math.max(0, Math.round(sec));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${m}:${String(r).padStart(2, '0')}`;
}

function metricText(m: Record<string, number> | undefined): string {
  if (!m) return '';
  const parts: string[] = [];
  if (m['loss'] !== undefined) parts.push(`loss ${m['loss'].toFixed(4)}`);
  if (m['acc'] !== undefined) parts.push(`acc ${(m['acc'] * 100).toFixed(1)}%`);
  if (m['trainLoss'] !== undefined) parts.push(`train loss ${m['trainLoss'].toFixed(4)}`);
  if (m['testAcc'] !== undefined) parts.push(`test acc ${(m['testAcc'] * 100).toFixed(1)}%`);
  if (m['samplesPerSec'] !== undefined) parts.push(`${Math.round(m['samplesPerSec'])} samples/s`);
  return parts.join('  ');
}

/**
 * Progress on stderr. Stages may run at the same time (the two endpoint trainings of a job): on a terminal the live
 * line shows every active stage, and a stage's final line stays when it completes; otherwise each stage prints a line
 * per 10%.
 */
export class ProgressRenderer {
  private readonly active = new Map<string, ProgressEvent>();
  private readonly deciles = new Map<string, number>();
  private live = false;
  private lastDraw = 0;

  constructor(private readonly out: NodeJS.WriteStream = process.stderr, private readonly tty = Boolean(process.stderr.isTTY)) {}

  private line(e: ProgressEvent, withBar: boolean): string {
    const frac = e.total > 0 ? Math.min(1, e.done / e.total) : 0;
    const head = `${e.label.padEnd(16)} ${String(Math.round(frac * 100)).padStart(3)}%  ${e.done}/${e.total} ${e.unit}`;
    const tail = `${metricText(e.metrics)}  ${e.done >= e.total ? `done in ${formatDuration(e.elapsedSec)}` : `ETA ${formatDuration(e.etaSec)}`}`;
    if (!withBar) return `${head}  ${tail}`;
    const width = 24;
    const filled = Math.round(frac * width);
    return `${e.label.padEnd(16)} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${head.slice(17)}  ${tail}`;
  }

  private compact(e: ProgressEvent): string {
    const frac = e.total > 0 ? Math.min(1, e.done / e.total) : 0;
    const m = e.metrics?.['loss'] !== undefined ? ` loss ${e.metrics['loss'].toFixed(3)}` : '';
    return `${e.label} ${String(Math.round(frac * 100)).padStart(3)}%${m} ETA ${formatDuration(e.etaSec)}`;
  }

  private draw(): void {
    const cols = this.out.columns ?? 120;
    const events = [...this.active.values()];
    const text = events.length === 1 ? this.line(events[0]!, true) : events.map((e) => this.compact(e)).join('  │  ');
    this.out.write(`\r\x1b[2K${text.slice(0, cols - 1)}`);
    this.live = events.length > 0;
  }

  update(e: ProgressEvent): void {
    const fresh = !this.active.has(e.stage);
    const done = e.done >= e.total;
    if (this.tty) {
      this.active.set(e.stage, e);
      const now = performance.now();
      if (done) {
        this.active.delete(e.stage);
        this.out.write(`\r\x1b[2K${this.line(e, true).slice(0, (this.out.columns ?? 120) - 1)}\n`);
        this.live = false;
        if (this.active.size) this.draw();
        return;
      }
      if (!fresh && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      this.draw();
    } else {
      const frac = e.total > 0 ? Math.min(1, e.done / e.total) : 0;
      const decile = Math.floor(frac * 10);
      if (decile === this.deciles.get(e.stage)) return;
      if (done) this.deciles.delete(e.stage);
      else this.deciles.set(e.stage, decile);
      this.out.write(`${this.line(e, false)}\n`);
    }
  }

  /** Ends the live line (before printing anything else). */
  finishLine(): void {
    if (this.tty && this.live) this.out.write('\n');
    this.live = false;
    this.active.clear();
    this.deciles.clear();
  }
}
