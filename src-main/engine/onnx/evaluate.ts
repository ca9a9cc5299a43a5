/**
 * Network-level forward work on ONNX Runtime: logits, summed loss and correct count of a batch, and loss and accuracy
 * over a split in batches. One compiled session per spec and batch size (runtime.ts); the weights are inputs, so one
 * session serves every point of a path.
 */
import type { Split } from '../data/dataset';
import type { Metrics } from '../eval/evaluate';
import { type HostParams, type HostTensor, checkParams } from '../nn/params';
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

/** Runs the split in batches of batchSize (the last one smaller), summing each batch's loss and correct count. */
async function overBatches(split: Split, batchSize: number, run: (s: number, e: number, k: number) => Promise<BatchOutput>): Promise<Metrics> {
  let loss = 0;
  let correct = 0;
  for (let s = 0, k = 0; s < split.n; s += batchSize, k++) {
    const r = await run(s, Math.min(s + batchSize, split.n), k);
    loss += r.lossSum;
    correct += r.correct;
  }
  return { loss: loss / split.n, acc: correct / split.n };
}

/** Mean loss and accuracy over a split, in batches of batchSize (the last one smaller). */
export async function onnxEvaluate(spec: ArchSpec, params: HostParams, split: Split, batchSize: number): Promise<Metrics> {
  checkParams(spec, params);
  const ort = await loadOrt();
  const weights = paramFeeds(ort, params);
  const features = spec.input[0] * spec.input[1] * spec.input[2];
  return overBatches(split, batchSize, (s, e) => runForward(ort, spec, weights, split.x.subarray(s * features, e * features), split.y.subarray(s, e)));
}

/*
 * The first layer factored out of a path's points (paths/pointwise.ts): on a segment θ(u) = Σ_c w_c(u)·θ_c, and
 * x·W_1(u) = Σ_c w_c(u)·(x·W_1^c), so the products x·W_1^c are computed once per control point and batch, and each
 * point runs layers 2 … d from their mix. For the 784-512-512-10 MLP the first layer is 60% of a forward pass.
 */

const PRODUCT = 'product';
const productInput = (c: number): string => `product.${c}`;
const mixInput = (c: number): string => `mix.${c}`;

function firstLayerShape(spec: ArchSpec): [number, number] {
  const first = spec.layers[0]!;
  if (first.type !== 'dense') throw new Error('the first layer is factored out of dense first layers only');
  return [spec.input[0] * spec.input[1] * spec.input[2], first.units];
}

/** x [n, features] times the first layer's kernel: its pre-activation before the bias. */
function buildFirstProductModel(spec: ArchSpec, n: number): Uint8Array {
  const g = new GraphBuilder('modelab_first_product');
  const [f, h] = firstLayerShape(spec);
  const product = g.op('MatMul', [g.input(X_INPUT, 'float', [n, f]), g.input('A1.w', 'float', [f, h])]);
  g.output(PRODUCT, product, 'float', [n, h]);
  return g.serialize();
}

/** The evaluation graph from k first-layer products mixed with k weights; inputs every parameter but A1.w. */
function buildMixedForwardModel(spec: ArchSpec, n: number, k: number): Uint8Array {
  const g = new GraphBuilder('modelab_forward_mixed');
  const [, h] = firstLayerShape(spec);
  const terms = Array.from({ length: k }, (_, c) => g.op('Mul', [g.input(productInput(c), 'float', [n, h]), g.input(mixInput(c), 'float', [])]));
  const mixed = terms.slice(1).reduce((a, t) => g.op('Add', [a, t]), terms[0]!);
  const { logits } = emitForward(g, spec, n, paramInputs(g, spec, true, ['A1.w']), false, mixed);
  const loss = emitLoss(g, logits, n, classCount(spec));
  g.output(OUT.logits, logits, 'float', [n, classCount(spec)]);
  g.output(OUT.lossSum, loss.lossSum, 'float', []);
  g.output(OUT.correct, loss.correct, 'float', []);
  return g.serialize();
}

/** x·W_1 of each batch of the split (batches of batchSize, as onnxEvaluate runs them). */
export async function onnxFirstProducts(spec: ArchSpec, w1: HostTensor, split: Split, batchSize: number): Promise<Float32Array[]> {
  const ort = await loadOrt();
  const [f, h] = firstLayerShape(spec);
  if (w1.data.length !== f * h) throw new Error(`A1.w: expected ${f}×${h} values, got ${w1.data.length}`);
  const kernel = new ort.Tensor('float32', w1.data, [f, h]);
  const out: Float32Array[] = [];
  for (let s = 0; s < split.n; s += batchSize) {
    const n = Math.min(s + batchSize, split.n) - s;
    const session = await cachedSession(`first-product/${n}/${JSON.stringify(spec)}`, () => buildFirstProductModel(spec, n));
    const r = await session.run({ [X_INPUT]: new ort.Tensor('float32', split.x.subarray(s * f, (s + n) * f), [n, f]), 'A1.w': kernel });
    out.push(r[PRODUCT]!.data as Float32Array);
  }
  return out;
}

/**
 * Loss and accuracy over a split of the network whose first-layer product is Σ_c mix[c]·products[c] (products[c]: the
 * split's batches from onnxFirstProducts) and whose other parameters are `params` (its A1.w is not read).
 */
export async function onnxEvaluateMixed(spec: ArchSpec, params: HostParams, products: Float32Array[][], mix: number[], split: Split, batchSize: number): Promise<Metrics> {
  checkParams(spec, params);
  if (products.length !== mix.length || products.length === 0) throw new Error('one mixing weight per first-layer product');
  const ort = await loadOrt();
  const [, h] = firstLayerShape(spec);
  const { 'A1.w': _w1, ...rest } = paramFeeds(ort, params);
  const mixFeeds = Object.fromEntries(mix.map((m, c) => [mixInput(c), new ort.Tensor('float32', Float32Array.of(m), [])]));
  return overBatches(split, batchSize, async (s, e, b) => {
    const n = e - s;
    const session = await cachedSession(`forward-mixed/${n}/${mix.length}/${JSON.stringify(spec)}`, () => buildMixedForwardModel(spec, n, mix.length));
    const feeds: Record<string, OrtTensor> = { ...rest, ...mixFeeds, [LABELS_INPUT]: new ort.Tensor('int32', split.y.subarray(s, e), [n]) };
    products.forEach((p, c) => (feeds[productInput(c)] = new ort.Tensor('float32', p[b]!, [n, h])));
    const r = await session.run(feeds);
    return { logits: r[OUT.logits]!.data as Float32Array, lossSum: (r[OUT.lossSum]!.data as Float32Array)[0]!, correct: (r[OUT.correct]!.data as Float32Array)[0]! };
  });
}
