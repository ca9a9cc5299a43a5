/**
 * Network-level forward work on ONNX Runtime: logits, summed loss and correct count of a batch, and loss and accuracy
 * over a split in batches. One compiled session per spec and batch size (runtime.ts); the weights are inputs, so one
 * session serves every point of a path.
 */
import type { Split } from '../data/dataset';
import type { Metrics } from '../eval/evaluate';
import { type HostParams, checkParams } from '../nn/params';
import type { ArchSpec } from '../nn/spec';
import { emitForward, emitLoss, classCount, paramInputs, X_INPUT, LABELS_INPUT } from './forward-graph';
import { GraphBuilder } from './graph';
import { type OrtModule, type OrtTensor, cachedSession, loadOrt } from './runtime';

const OUT = { logits: 'logits', lossSum: 'loss_sum', correct: 'correct' } as const;

/** The evaluation graph: inputs x, labels and the weights; outputs logits, summed cross-entropy, correct count. */
export function buildForwardModel(spec: ArchSpec, n: number): Uint8Array {
  const g = new GraphBuilder('modelab_forward');
  const k = classCount(spec);
  const { logits } = emitForward(g, spec, n, paramInputs(g, spec), false);
  const loss = emitLoss(g, logits, n, k);
  g.output(OUT.logits, logits, 'float', [n, k]);
  g.output(OUT.lossSum, loss.lossSum, 'float', []);
  g.output(OUT.correct, loss.correct, 'float', []);
  return g.serialize();
}

/** The weights as ONNX Runtime tensors over the same memory (no copy). */
export function paramFeeds(ort: OrtModule, params: HostParams): Record<string, OrtTensor> {
  const out: Record<string, OrtTensor> = {};
  for (const [k, v] of Object.entries(params)) out[k] = new ort.Tensor('float32', v.data, v.shape);
  return out;
}

export interface BatchOutput {
  logits: Float32Array;
  lossSum: number;
  correct: number;
}

/** f_θ(x) on a batch of n rows x ([n, H·W·C], NHWC rows) with labels y, in evaluation mode. */
export async function onnxForwardBatch(spec: ArchSpec, params: HostParams, x: Float32Array, y: Int32Array): Promise<BatchOutput> {
  checkParams(spec, params);
  const n = y.length;
  const features = spec.input[0] * spec.input[1] * spec.input[2];
  if (x.length !== n * features) throw new Error(`expected ${n}×${features} inputs, got ${x.length} values`);
  const ort = await loadOrt();
  return runForward(ort, spec, paramFeeds(ort, params), x, y);
}

async function runForward(ort: OrtModule, spec: ArchSpec, weights: Record<string, OrtTensor>, x: Float32Array, y: Int32Array): Promise<BatchOutput> {
  const n = y.length;
  const session = await cachedSession(`forward/${n}/${JSON.stringify(spec)}`, () => buildForwardModel(spec, n));
  const r = await session.run({
    ...weights,
    [X_INPUT]: new ort.Tensor('float32', x, [n, x.length / n]),
    [LABELS_INPUT]: new ort.Tensor('int32', y, [n]),
  });
  return {
    logits: r[OUT.logits]!.data as Float32Array,
    lossSum: (r[OUT.lossSum]!.data as Float32Array)[0]!,
    correct: (r[OUT.correct]!.data as Float32Array)[0]!,
  };
}

/** Mean loss and accuracy over a split, in batches of batchSize (the last one smaller). */
export async function onnxEvaluate(spec: ArchSpec, params: HostParams, split: Split, batchSize: number): Promise<Metrics> {
  checkParams(spec, params);
  const ort = await loadOrt();
  const weights = paramFeeds(ort, params);
  const features = spec.input[0] * spec.input[1] * spec.input[2];
  let loss = 0;
  let correct = 0;
  for (let s = 0; s < split.n; s += batchSize) {
    const e = Math.min(s + batchSize, split.n);
    const r = await runForward(ort, spec, weights, split.x.subarray(s * features, e * features), split.y.subarray(s, e));
    loss += r.lossSum;
    correct += r.correct;
  }
  return { loss: loss / split.n, acc: correct / split.n };
}
