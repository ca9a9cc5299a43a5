/**
 * Training steps on ONNX Runtime: the weights and optimiser state live in ONNX Runtime tensors between steps (each
 * step's outputs are the next step's inputs, no copies on the way), one compiled step per batch size.
 */
import { dropoutMaskValues } from '../nn/forward';
import { type HostParams, checkParams, sizeOf } from '../nn/params';
import { type ArchSpec, isBatchNormStat, paramShapes } from '../nn/spec';
import type { Rng } from '../util/rng';
import type { OptimizerConfig } from '../train/optimizers';
import { X_INPUT, LABELS_INPUT, layerHasDropout, maskInput, maskShape } from './forward-graph';
import { type OrtModule, type OrtTensor, cachedSession, loadOrt } from './runtime';
import {
  ADAM_C1_INPUT, ADAM_C2_INPUT, CORRECT_OUTPUT, LOSS_OUTPUT, LR_INPUT, buildTrainStepModel, gradOutput, newParamOutput,
  newSlotOutput, optimizerKey, optimizerSlots, slotInput, trainableShapes,
} from './train-graph';

export interface StepResult {
  /** The batch's mean cross-entropy (dropout active) and its number of correct predictions. */
  loss: number;
  correct: number;
}

/** The dropout masks of one step, drawn from rng in the engine's order (layer by layer, nn/forward.ts). */
export function drawDropoutMasks(spec: ArchSpec, n: number, rng: Rng): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (let i = 1; i < spec.layers.length; i++) {
    if (layerHasDropout(spec, i)) out[maskInput(i)] = dropoutMaskValues(sizeOf(maskShape(spec, i, n)), spec.layers[i - 1]!.dropout, rng);
  }
  return out;
}

export class OnnxTrainer {
  /** Trainable weights and optimiser state, as graph inputs. */
  private state: Record<string, OrtTensor> = {};
  /** BatchNorm statistics: carried through training unchanged (train/loop.ts sets them after training). */
  private readonly stats: HostParams = {};
  private t = 0;

  private constructor(
    private readonly ort: OrtModule,
    private readonly spec: ArchSpec,
    private readonly cfg: OptimizerConfig,
    init: HostParams,
    private readonly threads: number | undefined,
  ) {
    for (const p of paramShapes(spec)) {
      if (isBatchNormStat(p.name)) {
        this.stats[p.name] = { shape: [...p.shape], data: new Float32Array(init[p.name]!.data) };
        continue;
      }
      // A copy: the caller's weights are not overwritten by training.
      this.state[p.name] = new ort.Tensor('float32', new Float32Array(init[p.name]!.data), p.shape);
      for (const s of optimizerSlots(cfg)) this.state[slotInput(s, p.name)] = new ort.Tensor('float32', new Float32Array(sizeOf(p.shape)), p.shape);
    }
  }

  /** A trainer starting from `init` (weights of `spec`, checked), its steps on `threads` intra-op threads (the
   *  process's share, runtime.ts ortThreads, unless given). */
  static async create(spec: ArchSpec, init: HostParams, cfg: OptimizerConfig, threads?: number): Promise<OnnxTrainer> {
    checkParams(spec, init);
    return new OnnxTrainer(await loadOrt(), spec, cfg, init, threads);
  }

  /**
   * One step on a batch (BatchNorm normalises with the batch's statistics, as train/loop.ts) (x: n rows, NHWC; y: labels) with learning rate lr and the step's dropout masks
   * (drawDropoutMasks). With `gradients`, also returns dL/dθ at the weights before the update.
   */
  async step(x: Float32Array, y: Int32Array, lr: number, masks: Record<string, Float32Array>, gradients = false): Promise<StepResult & { grads?: HostParams }> {
    const { ort, spec, cfg } = this;
    const n = y.length;
    const session = await cachedSession(`train/${n}/${gradients}/${optimizerKey(cfg)}/${JSON.stringify(spec)}`, () =>
      buildTrainStepModel(spec, n, cfg, gradients),
      this.threads,
    );
    this.t++;
    const feeds: Record<string, OrtTensor> = {
      ...this.state,
      [X_INPUT]: new ort.Tensor('float32', x, [n, x.length / n]),
      [LABELS_INPUT]: new ort.Tensor('int32', y, [n]),
      [LR_INPUT]: new ort.Tensor('float32', Float32Array.of(lr), []),
    };
    if (cfg.type === 'adam') {
      feeds[ADAM_C1_INPUT] = new ort.Tensor('float32', Float32Array.of(1 - cfg.beta1 ** this.t), []);
      feeds[ADAM_C2_INPUT] = new ort.Tensor('float32', Float32Array.of(1 - cfg.beta2 ** this.t), []);
    }
    for (let i = 1; i < spec.layers.length; i++) {
      if (!layerHasDropout(spec, i)) continue;
      const m = masks[maskInput(i)];
      if (!m) throw new Error(`missing dropout mask for layer ${i}`);
      feeds[maskInput(i)] = new ort.Tensor('float32', m, maskShape(spec, i, n));
    }
    const r = await session.run(feeds);
    const grads: HostParams = {};
    for (const p of trainableShapes(spec)) {
      this.state[p.name] = r[newParamOutput(p.name)]!;
      for (const s of optimizerSlots(cfg)) this.state[slotInput(s, p.name)] = r[newSlotOutput(s, p.name)]!;
      if (gradients) grads[p.name] = { shape: [...p.shape], data: r[gradOutput(p.name)]!.data as Float32Array };
    }
    const out = { loss: (r[LOSS_OUTPUT]!.data as Float32Array)[0]!, correct: (r[CORRECT_OUTPUT]!.data as Float32Array)[0]! };
    return gradients ? { ...out, grads } : out;
  }

  /** The current weights (copies), BatchNorm statistics as they came in, in spec order. */
  params(): HostParams {
    const out: HostParams = {};
    for (const p of paramShapes(this.spec)) {
      const data = isBatchNormStat(p.name) ? this.stats[p.name]!.data : (this.state[p.name]!.data as Float32Array);
      out[p.name] = { shape: [...p.shape], data: new Float32Array(data) };
    }
    return out;
  }
}
