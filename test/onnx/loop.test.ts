/**
 * The onnx-cpu backend end to end through the training loop (train/loop.ts): `modelab backends` lists it, selecting
 * it computes the steps on ONNX Runtime (tfjs wasm for the rest), and the same seed trains the same network as on
 * tfjs: the loss curve of every step and the final weights (BatchNorm statistics recomputed after training) equal
 * within float32 tolerance, with dropout, augmentation-free shuffled epochs and a learning-rate schedule.
 */
import { describe, expect, it } from 'vitest';
import { probeAll, selectBackend } from '../../src-main/engine/backend/backends';
import { gaussianMixture } from '../../src-main/engine/data/synthetic';
import type { ArchSpec } from '../../src-main/engine/nn/spec';
import { type CurvePoint, type TrainConfig, train } from '../../src-main/engine/train/loop';
import { maxAbs } from './helpers';

const data = gaussianMixture({ classes: 4, dim: 8, train: 100, test: 50, separation: 3, noise: 1, clustersPerClass: 2, seed: 3 });

const spec: ArchSpec = {
  input: [1, 1, 8],
  layers: [
    { type: 'dense', units: 16, bias: true, dropout: 0.2, batchNorm: true },
    { type: 'dense', units: 12, bias: false, dropout: 0.1 },
    { type: 'dense', units: 4, bias: true, dropout: 0 },
  ],
};

// 12 steps over 100 samples in batches of 32: a smaller last batch every epoch, and a cosine schedule.
const cfg: TrainConfig = {
  optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: false, weightDecay: 5e-4 },
  schedule: { type: 'cosine', minLr: 0.01 },
  batchSize: 32,
  steps: 12,
};

async function trainOn(backend: string): Promise<{ curve: CurvePoint[]; params: Awaited<ReturnType<typeof train>>['params'] }> {
  await selectBackend(backend);
  const curve: CurvePoint[] = [];
  const r = await train(spec, data, cfg, { seed: 4, logPoints: 12, onCurvePoint: (p) => curve.push(p) });
  return { curve, params: r.params };
}

describe('the onnx-cpu backend', () => {
  it('is listed with the others, available here', async () => {
    const probe = (await probeAll()).find((p) => p.name === 'onnx-cpu');
    expect(probe).toEqual({ name: 'onnx-cpu', available: true });
  });

  it('when selected, records ONNX Runtime and keeps tfjs on wasm for the rest', async () => {
    const r = await selectBackend('onnx-cpu');
    expect(r.backend).toBe('onnx-cpu');
    expect(r.tfjsBackend).toBe('wasm');
    expect(r.device).toMatch(/^ONNX Runtime 1\.\d+\.\d+ CPU \(training steps, evaluation\)/);
    expect(r.details).toMatchObject({ onnxProvider: 'cpu' });
  });

  it('trains the same network as tfjs from the same seed: loss curve and weights', async () => {
    const want = await trainOn('cpu');
    const got = await trainOn('onnx-cpu');
    expect(got.curve.map((p) => p.step)).toEqual(want.curve.map((p) => p.step));
    expect(want.curve.length).toBe(12);
    for (const [k, p] of got.curve.entries()) {
      expect(Math.abs(p.loss - want.curve[k]!.loss), `step ${p.step}`).toBeLessThan(1e-5 * Math.max(1, want.curve[k]!.loss));
      expect(p.acc).toBe(want.curve[k]!.acc);
      expect(p.lr).toBe(want.curve[k]!.lr);
    }
    for (const k of Object.keys(want.params)) expect(maxAbs(got.params[k]!.data, want.params[k]!.data), k).toBeLessThan(1e-4);
  });
});
