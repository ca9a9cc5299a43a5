/** Learning-rate schedules, as a function of the (fractional) epoch and the global step. */

export type ScheduleConfig =
  | { type: 'constant' }
  /** lr · factor^⌊epoch / every⌋, e.g. "halve every 30 epochs" = { every: 30, factor: 0.5 }. */
  | { type: 'step'; every: number; factor: number }
  /** Cosine annealing from lr to minLr over the whole run. */
  | { type: 'cosine'; minLr: number }
  /** Keras' legacy decay: lr / (1 + decay · step) (the paper's MNIST CNN used decay 1e−6). */
  | { type: 'inverse-time'; decay: number };

export function learningRate(base: number, s: ScheduleConfig, step: number, totalSteps: number, stepsPerEpoch: number): number {
  switch (s.type) {
    case 'constant':
      return base;
    case 'step':
      return base * s.factor ** Math.floor(step / stepsPerEpoch / s.every);
    case 'cosine':
      return s.minLr + 0.5 * (base - s.minLr) * (1 + Math.cos((Math.PI * Math.min(step, totalSteps)) / Math.max(totalSteps, 1)));
    case 'inverse-time':
      return base / (1 + s.decay * step);
  }
}
