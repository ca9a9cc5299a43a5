/** The live training chart takes each logged step from the progress event that moves the step counter. */
import { describe, expect, it } from 'vitest';
import type { CurvePoint, ProgressEvent } from '../../src-renderer/src/api/types';
import { mergeCurve, progressCurvePoint } from '../../src-renderer/src/views/live-curve';

const pt = (step: number, loss = 1 / step): CurvePoint => ({ step, epoch: step / 10, lr: 0.05, loss, acc: 0.5 });
const progress = (stage: string, done: number, metrics?: Record<string, number>): ProgressEvent => ({ stage, label: stage, done, total: 100, unit: 'steps', elapsedSec: 1, metrics });

describe('live training curve', () => {
  it('reads the curve point of a logged training step from its progress event, and nothing from heartbeats or other stages', () => {
    expect(progressCurvePoint(progress('train:A', 30, { loss: 0.4, acc: 0.8, lr: 0.05, epoch: 3, samplesPerSec: 900 }))).toEqual({
      endpoint: 'A',
      point: { step: 30, epoch: 3, lr: 0.05, loss: 0.4, acc: 0.8 },
    });
    expect(progressCurvePoint(progress('train:A', 31, { lr: 0.05, epoch: 3.1, samplesPerSec: 900 }))).toBeNull();
    expect(progressCurvePoint(progress('path:linear', 5, { loss: 0.4, acc: 0.8, lr: 0, epoch: 0 }))).toBeNull();
  });

  it('merges by step: the curve batch replaces the progress copy and fills the steps before it, in order', () => {
    const curve = [pt(10), pt(20)];
    mergeCurve(curve, [{ ...pt(40), loss: 9 }]); // from progress, ahead of its batch
    mergeCurve(curve, [pt(30), pt(40)]);
    mergeCurve(curve, [pt(50)]);
    expect(curve.map((p) => p.step)).toEqual([10, 20, 30, 40, 50]);
    expect(curve[3]!.loss).toBe(pt(40).loss);
  });
});
