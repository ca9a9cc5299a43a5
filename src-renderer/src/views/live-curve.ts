/**
 * The live training chart keeps pace with the step counter: a training stage's progress event carries the metrics of
 * the step just logged (the same numbers as its curve point, which comes later in a batch), so the chart takes the
 * point from whichever arrives first; the curve batch's copy replaces it.
 */
import type { CurvePoint, ProgressEvent } from '../api/types';

/** The curve point a training progress event carries, with its endpoint; null for other stages and heartbeats. */
export function progressCurvePoint(e: ProgressEvent): { endpoint: string; point: CurvePoint } | null {
  const endpoint = /^train:(.+)$/.exec(e.stage)?.[1];
  const m = e.metrics;
  if (!endpoint || m?.['loss'] === undefined || m['acc'] === undefined || m['lr'] === undefined || m['epoch'] === undefined) return null;
  return { endpoint, point: { step: e.done, epoch: m['epoch'], lr: m['lr'], loss: m['loss'], acc: m['acc'] } };
}

/** Merges points into a curve kept in step order: a point at a step already there replaces it. */
export function mergeCurve(curve: CurvePoint[], points: CurvePoint[]): void {
  for (const p of points) {
    let i = curve.length;
    while (i > 0 && curve[i - 1]!.step > p.step) i--;
    if (i > 0 && curve[i - 1]!.step === p.step) curve[i - 1] = p;
    else curve.splice(i, 0, p);
  }
}
