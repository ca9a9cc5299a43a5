/**
 * The live training chart keeps pace with the step counter: a training stage's progress event carries the metrics of
 * the step just logged (the same numbers as its curve point, which comes later in a batch), so the chart shows the
 * latest progress point ahead of the curve until the curve's own copy arrives.
 */
import type { CurvePoint, ProgressEvent } from '../api/types';
import { type RunSoFar, mergeCurve } from '../../../src-main/engine/experiment/run-so-far';

/** The curve point a training progress event carries, with its endpoint; null for other stages and heartbeats. */
export function progressCurvePoint(e: ProgressEvent): { endpoint: string; point: CurvePoint } | null {
  const endpoint = /^train:(.+)$/.exec(e.stage)?.[1];
  const m = e.metrics;
  if (!endpoint || m?.['loss'] === undefined || m['acc'] === undefined || m['lr'] === undefined || m['epoch'] === undefined) return null;
  return { endpoint, point: { step: e.done, epoch: m['epoch'], lr: m['lr'], loss: m['loss'], acc: m['acc'] } };
}

/** The curves to draw: each endpoint's curve as told, and its latest training progress point when that is ahead. */
export function liveCurves(run: Pick<RunSoFar, 'curves' | 'progress'>): Record<string, CurvePoint[]> {
  const curves = { ...run.curves };
  for (const e of Object.values(run.progress)) {
    const p = progressCurvePoint(e);
    if (p && p.point.step > (curves[p.endpoint]?.at(-1)?.step ?? -Infinity)) curves[p.endpoint] = mergeCurve(curves[p.endpoint] ?? [], [p.point]);
  }
  return curves;
}
