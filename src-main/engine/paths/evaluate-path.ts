/** Evaluation of a path at a grid of t: train and test loss and accuracy at every point, one forward pass per point. */
import type { DeviceSplit } from '../eval/evaluate';
import { evaluateHost } from '../eval/host';
import type { PathPoint } from '../eval/barrier';
import type { ArchSpec } from '../nn/spec';
import { throwIfCancelled } from '../util/errors';
import { type ProgressFn, StageTimer, yieldToEventLoop } from '../util/progress';
import { type ParamPath, pointAt } from './path';

export interface EvalSplits {
  train: DeviceSplit;
  test: DeviceSplit;
}

export interface PathEvalOptions {
  onProgress?: ProgressFn;
  signal?: AbortSignal;
  stage?: string;
  label?: string;
}

export async function evaluatePathPoints(
  spec: ArchSpec,
  path: ParamPath,
  ts: number[],
  splits: EvalSplits,
  opts: PathEvalOptions = {},
): Promise<PathPoint[]> {
  const timer = new StageTimer(opts.onProgress, opts.stage ?? `path:${path.name}`, opts.label ?? `path ${path.name}`, ts.length, 'points');
  const points: PathPoint[] = [];
  for (const t of ts) {
    throwIfCancelled(opts.signal);
    const theta = pointAt(path, t);
    points.push({ t, train: await evaluateHost(spec, theta, splits.train), test: await evaluateHost(spec, theta, splits.test) });
    const last = points[points.length - 1]!;
    timer.report(points.length, { t, trainLoss: last.train.loss, testAcc: last.test.acc });
    await yieldToEventLoop();
  }
  return points;
}
