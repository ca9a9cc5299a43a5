/**
 * Sharing independent points with helper processes (point-workers.ts): the one scheduler behind a path's 'line' /
 * 'curve' points (structured-eval.ts) and a loss plane's grid (plane/plane.ts). This process takes points from the
 * front of the list, the helpers from the back (HELPER_QUEUE each at a time, so that none waits for this process's
 * busy event loop); when this process runs out it takes back what the helpers have not started and waits for the
 * rest. A point a helper fails on (it crashed, stopped) is evaluated here: every point is evaluated, only later.
 */
import { throwIfCancelled } from '../util/errors';
import type { PointMetrics, SharedPoint } from './point-workers';

/** Points each helper process holds at once: the one it evaluates and one queued. */
const HELPER_QUEUE = 2;

/** A helper's side of the sharing: evaluates a point there (null: taken back before it started). */
export interface HelperSession<P> {
  readonly processes?: number;
  evaluate(point: P): Promise<SharedPoint | null>;
  withdraw(): void;
  close(): void;
}

/**
 * Evaluates every point of `todo` (keyed by `k`) here (`here`) or in the helpers; returns the metrics by key and the
 * full-pass equivalents the helpers spent. Closes the session.
 */
export async function sharePoints<P extends { k: number }>(
  todo: P[],
  here: (p: P) => Promise<PointMetrics>,
  session: HelperSession<P>,
  o: { tick: () => Promise<void>; report: () => void; signal?: AbortSignal },
): Promise<{ results: Map<number, PointMetrics>; helperCost: number }> {
  const results = new Map<number, PointMetrics>();
  const queue = [...todo];
  const flights = new Map<number, Promise<void>>();
  let helperCost = 0;
  let failure: unknown = null;
  let draining = false;
  const send = (): void => {
    while (!draining && failure === null && flights.size < HELPER_QUEUE * (session.processes ?? 1) && queue.length > 0) {
      const p = queue.pop()!;
      const flight = session.evaluate(p).then(
        (r) => {
          flights.delete(p.k);
          if (!r) return void queue.push(p); // taken back before it started: evaluated here
          results.set(p.k, r.metrics);
          helperCost += r.cost;
          o.report();
          send();
        },
        (e: unknown) => {
          flights.delete(p.k);
          queue.push(p);
          failure ??= e;
        },
      );
      flights.set(p.k, flight);
    }
  };
  try {
    send();
    for (;;) {
      const p = queue.shift();
      if (p) {
        results.set(p.k, await here(p));
        await o.tick();
        send();
        continue;
      }
      if (!flights.size) break;
      if (!draining) {
        draining = true;
        session.withdraw();
      }
      await Promise.race(flights.values());
      throwIfCancelled(o.signal);
    }
  } finally {
    session.close();
  }
  if (results.size !== todo.length) throw new Error(`internal: ${todo.length - results.size} points were not evaluated`);
  return { results, helperCost };
}
