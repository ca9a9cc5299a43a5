/** Evaluation of a path at a grid of t: train and test loss and accuracy at every point, one forward pass per point. */
import { type DeviceSplit, evaluate } from '../eval/evaluate';
import type { PathPoint } from '../eval/barrier';
import { disposeParams, toDevice } from '../nn/params';
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
    const dev = toDevice(pointAt(path, t));
    try {
      points.push({ t, train: await evaluate(spec, dev, splits.train), test: await evaluate(spec, dev, splits.test) });
    } finally {
      disposeParams(dev);
    }
    const last = points[points.length - 1]!;
    timer.report(points.length, { t, trainLoss: last.train.loss, testAcc: last.test.acc });
    await yieldToEventLoop();
  }
  return points;
}
