/**
 * The matrix-multiply ceiling as ONNX Runtime computes it: one size×size MatMul graph, timed on a provider with the
 * process's intra-op threads (runtime.ts ortThreads). On the CPU provider this is the machine's native peak that the
 * bench sets every backend's throughput against; on an onnx-* backend's own provider, that backend's ceiling.
 */
import { GraphBuilder } from './graph';
import { type OrtProvider, loadOrt, sessionOptions } from './runtime';

export interface OrtMatmul {
  size: number;
  /** The best of the timed repetitions (ms). */
  ms: number;
  gflops: number;
  provider: OrtProvider;
  threads: number;
}

function matmulModel(size: number): Uint8Array {
  const g = new GraphBuilder('modelab_matmul');
  const a = g.input('a', 'float', [size, size]);
  const b = g.input('b', 'float', [size, size]);
  g.output('c', g.op('MatMul', [a, b]), 'float', [size, size]);
  return g.serialize();
}

/** Times `reps` size³ matmuls on `provider` after a warm-up; 2·size³ FLOPs each. */
export async function ortMatmul(provider: OrtProvider, size: number, reps: number): Promise<OrtMatmul> {
  const ort = await loadOrt();
  const options = sessionOptions(provider);
  const session = await ort.InferenceSession.create(matmulModel(size), options);
  try {
    const values = Float32Array.from({ length: size * size }, (_, k) => ((k * 7919) % 1000) / 1000 - 0.5);
    const feeds = { a: new ort.Tensor('float32', values, [size, size]), b: new ort.Tensor('float32', values, [size, size]) };
    await session.run(feeds);
    let best = Infinity;
    for (let k = 0; k < reps; k++) {
      const s = performance.now();
      await session.run(feeds);
      best = Math.min(best, performance.now() - s);
    }
    return { size, ms: best, gflops: (2 * size ** 3) / best / 1e6, provider, threads: options.intraOpNumThreads! };
  } finally {
    await session.release();
  }
}
