/**
 * The training loop's steps (train/loop.ts) on ONNX Runtime, for the onnx-cpu backend: one compiled training graph
 * per batch size, the weights kept in ONNX Runtime between steps, dropout masks drawn from the run's dropout
 * generator in the engine's order (so a seed trains the same network as on tfjs, up to float32 rounding).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { HostParams } from '../nn/params';
import type { ArchSpec } from '../nn/spec';
import type { Stepper } from '../train/loop';
import type { OptimizerConfig } from '../train/optimizers';
import type { Rng } from '../util/rng';
import { OnnxTrainer, drawDropoutMasks } from './trainer';

export async function onnxStepper(spec: ArchSpec, init: HostParams, cfg: OptimizerConfig, dropRng: Rng): Promise<Stepper> {
  const trainer = await OnnxTrainer.create(spec, init, cfg);
  return {
    step: async ({ hostX, hostY }, lr) => {
      const r = await trainer.step(hostX, hostY, lr, drawDropoutMasks(spec, hostY.length, dropRng));
      // The loop accumulates loss and accuracy as tfjs scalars (it disposes them).
      return { loss: tf.scalar(r.loss), correct: tf.scalar(r.correct) };
    },
    params: () => Promise.resolve(trainer.params()),
    // Nothing to free: the weights are JavaScript-owned ONNX Runtime tensors, released with the trainer.
    dispose: () => {},
  };
}
