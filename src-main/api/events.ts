/**
 * Api events for a front end: a run's progress events coalesced to a few per second per (run, stage) — a training loop
 * may report every step — while every other event (status, curve points, endpoints, stability, paths) passes at once,
 * in order: pending progress of a run is flushed before that run's next other event.
 */
import type { ApiEvent } from './contract';

export interface EventThrottle {
  push(e: ApiEvent): void;
  /** Sends what is pending and stops the timer. */
  close(): void;
}

export function throttleEvents(send: (e: ApiEvent) => void, intervalMs = 200): EventThrottle {
  const pending = new Map<string, ApiEvent>();
  const lastSent = new Map<string, number>();
  let timer: NodeJS.Timeout | null = null;
  const flushRun = (runId: string | null): void => {
    for (const [k, e] of pending) {
      if (runId === null || e.runId === runId) {
        pending.delete(k);
        lastSent.set(k, Date.now());
        send(e);
      }
    }
  };
  const schedule = (): void => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      flushRun(null);
    }, intervalMs);
    timer.unref?.();
  };
  return {
    push(e) {
      if (e.type !== 'run' || e.event.kind !== 'progress') {
        flushRun(e.runId);
        send(e);
        return;
      }
      const p = e.event.progress;
      const key = `${e.runId}\u0000${p.stage}`;
      const finished = p.done >= p.total;
      if (finished || Date.now() - (lastSent.get(key) ?? 0) >= intervalMs) {
        pending.delete(key);
        lastSent.set(key, Date.now());
        send(e);
      } else {
        pending.set(key, e);
        schedule();
      }
    },
    close() {
      if (timer) clearTimeout(timer);
      timer = null;
      flushRun(null);
    },
  };
}
