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

export class ProgressRenderer {
  private current: string | null = null;
  private lastDecile = -1;
  private lastDraw = 0;

  constructor(private readonly out: NodeJS.WriteStream = process.stderr, private readonly tty = Boolean(process.stderr.isTTY)) {}

  update(e: ProgressEvent): void {
    const frac = e.total > 0 ? Math.min(1, e.done / e.total) : 0;
    const fresh = e.stage !== this.current;
    if (fresh) {
      this.finishLine();
      this.current = e.stage;
      this.lastDecile = -1;
    }
    const head = `${e.label.padEnd(16)} ${String(Math.round(frac * 100)).padStart(3)}%  ${e.done}/${e.total} ${e.unit}`;
    const tail = `${metricText(e.metrics)}  ${e.done >= e.total ? `done in ${formatDuration(e.elapsedSec)}` : `ETA ${formatDuration(e.etaSec)}`}`;
    if (this.tty) {
      const now = performance.now();
      if (!fresh && e.done < e.total && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      const width = 24;
      const filled = Math.round(frac * width);
      const bar = `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
      const cols = this.out.columns ?? 120;
      this.out.write(`\r\x1b[2K${`${e.label.padEnd(16)} ${bar} ${head.slice(17)}  ${tail}`.slice(0, cols - 1)}`);
    } else {
      const decile = Math.floor(frac * 10);
      if (decile === this.lastDecile) return;
      this.lastDecile = decile;
      this.out.write(`${head}  ${tail}\n`);
    }
  }

  /** Ends the live line (before printing anything else). */
  finishLine(): void {
    if (this.tty && this.current !== null) this.out.write('\n');
    this.current = null;
  }
}
