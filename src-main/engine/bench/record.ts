/**
 * What `modelab bench` measured (docs/performance.md): the records the bench writes (experiment/bench.ts runs it),
 * kept per machine (stored.ts) and read by the time estimate (recipe/estimate.ts).
 */
import type { OrtMatmul } from '../onnx/matmul';

export const BENCH_SCHEMA = 'modelab.bench/1';

/** One timed round of training, and the 1024³ matmul GFLOP/s measured just before it: the backend's own and this CPU's
 *  native one (null where ONNX Runtime's CPU provider does not load; absent from results kept by older versions). */
export interface Round {
  matmulGflops: number;
  nativeGflops?: number | null;
  samplesPerSec: number;
  gflops: number;
}

export interface Throughput {
  architecture: string;
  batch: number;
  dropout: number;
  /** Training steps of one timed round. */
  steps: number;
  /** The fastest round's. */
  samplesPerSec: number;
  gflops: number;
  /** The median over the rounds of the round's training GFLOP/s over the matmul GFLOP/s measured just before it (the
   *  two share the machine's speed of the moment). */
  efficiency: number;
  /** The same median against the native matmul of the moment (Round.nativeGflops); null without one, absent from
   *  results kept by older versions. */
  nativeEfficiency?: number | null;
  rounds: Round[];
}

/** What `modelab bench --json` prints: the fastest native matmul of the run, and one result per backend measured. */
export const BENCH_RUN_SCHEMA = 'modelab.bench-run/1';
export interface BenchRun {
  schema: typeof BENCH_RUN_SCHEMA;
  quick: boolean;
  nativePeak: NativePeak | null;
  results: BenchResult[];
}

/** This CPU's native matrix-multiply peak: an ONNX MatMul on ONNX Runtime's CPU provider. */
export type NativePeak = OrtMatmul;

/** The fastest of several native peaks (null when none was measured). */
export function fastestPeak(peaks: (NativePeak | null | undefined)[]): NativePeak | null {
  return peaks.reduce<NativePeak | null>((a, b) => (b && (!a || b.gflops > a.gflops) ? b : a), null);
}

export interface BenchResult {
  schema: typeof BENCH_SCHEMA;
  modelab: string;
  startedAt: string;
  quick: boolean;
  backend: string;
  device: string;
  tfjsVersion: string;
  /** The fastest 1024³ matmul of all rounds (ms) and its GFLOP/s: the backend's ceiling (tfjs' matMul; on an onnx-*
   *  backend, ONNX Runtime's MatMul on its provider). */
  matmul: { size: number; ms: number; gflops: number };
  /** The fastest native matmul of all rounds: this CPU's peak (the training figures' nativeEfficiency is set against
   *  each round's own); null without one, absent from results kept by older versions. */
  nativePeak?: NativePeak | null;
  training: { mlp: Throughput; mlpDropout: Throughput; cnn: Throughput };
  /** The MLP's training throughput (batch 128) in one process with 1, 2, … intra-op threads up to the cores present,
   *  on ONNX Runtime's CPU provider (onnx-cpu only; null on other backends, absent from results kept by older
   *  versions): what each process's threads are capped at (threadCap, jobs/parallelism.ts). */
  threadScaling?: ThreadScaling[] | null;
  lineEval: {
    points: number;
    samples: number;
    seconds: number;
    fullPassEquivalents: number;
    /** The same line with a point worker beside this process (as `modelab run` evaluates it on one-core backends),
     *  or null where none is used (GPU and TensorFlow backends, one core). */
    withPointWorker: { seconds: number; workerPoints: number } | null;
    /** The line's time with 1, 2, … processes computing its points (this one and workers − 1 point workers), up to
     *  the workers present (`workerPoints`: the points the workers took); absent from results kept by older versions. */
    scaling?: WorkerScaling[];
  };
  /** The loss plane through three MLPs (`size`² cells and the three networks' own points) on the evaluation sets'
   *  first `samples` (half train, half test), timed with 1, 2, … processes as the line; absent from results kept by
   *  older versions. */
  planeEval?: {
    size: number;
    points: number;
    samples: number;
    seconds: number;
    fullPassEquivalents: number;
    scaling: WorkerScaling[];
  };
  theorem1Eval: {
    segments: number;
    points: number;
    samples: number;
    structured: { seconds: number; fullPassEquivalents: number; distinctFunctions: number };
    naive: { seconds: number; passes: number; measuredPoints: number; extrapolated: boolean };
  };
  preset: { name: string; seconds: number; estimated: boolean; note: string };
  memory: { peakRssMB: number; tensorsAtStart: number; tensorsAtEnd: number; maxTensors: number };
  seconds: number;
}

/** A timing with `workers` processes computing at once (this one and workers − 1 point workers); `workerPoints`: the
 *  points the point workers took. */
export interface WorkerScaling {
  workers: number;
  seconds: number;
  workerPoints: number;
}


/** Training throughput with `threads` intra-op threads in one process (the fastest of the rounds). */
export interface ThreadScaling {
  threads: number;
  samplesPerSec: number;
}

/** A thread that adds less than this share of the fastest throughput is not worth taking from another process. */
const THREAD_GAIN = 0.1;

/**
 * The most threads one process should take, as measured: the fewest threads whose training throughput is within 10%
 * of the fastest count's (a shared or memory-bound machine stops gaining from threads well before its core count);
 * null without a thread scaling.
 */
export function threadCap(r: Pick<BenchResult, 'threadScaling'>): number | null {
  const s = r.threadScaling;
  if (!s?.length) return null;
  const best = Math.max(...s.map((x) => x.samplesPerSec));
  return Math.min(...s.filter((x) => x.samplesPerSec >= (1 - THREAD_GAIN) * best).map((x) => x.threads));
}
