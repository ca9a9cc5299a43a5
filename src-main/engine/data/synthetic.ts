/** Synthetic datasets for fast tests and smoke runs, generated from a seed. */
import { Rng } from '../util/rng';
import { type Dataset, sha256 } from './dataset';

export interface GaussianMixtureOptions {
  classes: number;
  dim: number;
  train: number;
  test: number;
  /** Typical norm of a cluster mean (each coordinate ~ N(0, separation²/dim)). */
  separation: number;
  /** Std of the isotropic noise around each mean. */
  noise: number;
  /** Gaussian components per class (more makes the problem non-linear). */
  clustersPerClass: number;
  seed: number;
}

/** Each class is a mixture of `clustersPerClass` isotropic Gaussians with random means. */
export function gaussianMixture(o: GaussianMixtureOptions): Dataset {
  const rng = new Rng(o.seed);
  const means: Float64Array[] = [];
  for (let k = 0; k < o.classes * o.clustersPerClass; k++) {
    const m = new Float64Array(o.dim);
    for (let j = 0; j < o.dim; j++) m[j] = (rng.normal() * o.separation) / Math.sqrt(o.dim);
    means.push(m);
  }
  const make = (n: number) => {
    const x = new Float32Array(n * o.dim);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const c = i % o.classes;
      const m = means[c * o.clustersPerClass + rng.int(o.clustersPerClass)]!;
      y[i] = c;
      for (let j = 0; j < o.dim; j++) x[i * o.dim + j] = m[j]! + rng.normal() * o.noise;
    }
    return { x, y, n };
  };
  return {
    name: 'gaussian-mixture',
    inputShape: [1, 1, o.dim],
    classes: o.classes,
    train: make(o.train),
    test: make(o.test),
    normalization: { kind: 'none' },
    checksum: sha256(JSON.stringify({ generator: 'gaussian-mixture', ...o })),
    source: `Gaussian mixture: ${o.classes} classes × ${o.clustersPerClass} clusters in ${o.dim} dimensions, seed ${o.seed}`,
  };
}

export interface SpiralsOptions {
  train: number;
  test: number;
  /** Number of spiral arms = classes (2 gives the classic two spirals). */
  arms: number;
  turns: number;
  noise: number;
  seed: number;
}

/** Interleaved spirals in the plane: r ∝ angle, one arm per class, Gaussian jitter. */
export function spirals(o: SpiralsOptions): Dataset {
  const rng = new Rng(o.seed);
  const make = (n: number) => {
    const x = new Float32Array(n * 2);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const c = i % o.arms;
      const s = rng.next();
      const angle = s * o.turns * 2 * Math.PI + (2 * Math.PI * c) / o.arms;
      const r = 0.1 + s;
      x[2 * i] = r * Math.cos(angle) + rng.normal() * o.noise;
      x[2 * i + 1] = r * Math.sin(angle) + rng.normal() * o.noise;
      y[i] = c;
    }
    return { x, y, n };
  };
  return {
    name: 'spirals',
    inputShape: [1, 1, 2],
    classes: o.arms,
    train: make(o.train),
    test: make(o.test),
    normalization: { kind: 'none' },
    checksum: sha256(JSON.stringify({ generator: 'spirals', ...o })),
    source: `${o.arms} spirals, ${o.turns} turns, noise ${o.noise}, seed ${o.seed}`,
  };
}
