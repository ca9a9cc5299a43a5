/**
 * Optimisers as plain state + update functions over tfjs variables (PyTorch conventions):
 * SGD: g ← ∇ + wd·θ; v ← μ·v + g; θ ← θ − lr·(nesterov ? g + μ·v : v).
 * Adam: g ← ∇ + wd·θ (L2, as torch.optim.Adam); bias-corrected first and second moments.
 */
import * as tf from '@tensorflow/tfjs-core';

export type OptimizerConfig =
  | { type: 'sgd'; lr: number; momentum: number; nesterov: boolean; weightDecay: number }
  | { type: 'adam'; lr: number; beta1: number; beta2: number; epsilon: number; weightDecay: number };

export interface Optimizer {
  /** Applies one update with learning rate lr. Takes ownership of nothing; grads are disposed by the caller. */
  step(vars: tf.Variable[], grads: tf.Tensor[], lr: number): void;
  dispose(): void;
}

export function createOptimizer(cfg: OptimizerConfig, vars: tf.Variable[]): Optimizer {
  // tf.variable keeps its initial tensor registered; dispose it, or every training run leaks one tensor per slot.
  const slots = (): tf.Variable[] =>
    vars.map((v) => {
      const zeros = tf.zerosLike(v);
      const slot = tf.variable(zeros, false);
      zeros.dispose();
      return slot;
    });
  if (cfg.type === 'sgd') {
    const vel = cfg.momentum > 0 ? slots() : [];
    return {
      step(vs, gs, lr) {
        tf.tidy(() => {
          vs.forEach((v, i) => {
            let g = gs[i]!;
            if (cfg.weightDecay > 0) g = tf.add(g, tf.mul(v, cfg.weightDecay));
            let upd = g;
            if (cfg.momentum > 0) {
              const nv = tf.add(tf.mul(vel[i]!, cfg.momentum), g);
              vel[i]!.assign(nv);
              upd = cfg.nesterov ? tf.add(g, tf.mul(nv, cfg.momentum)) : nv;
            }
            v.assign(tf.sub(v, tf.mul(upd, lr)));
          });
        });
      },
      dispose() {
        vel.forEach((t) => t.dispose());
      },
    };
  }
  const m = slots();
  const s = slots();
  let t = 0;
  return {
    step(vs, gs, lr) {
      t++;
      const c1 = 1 - cfg.beta1 ** t;
      const c2 = 1 - cfg.beta2 ** t;
      tf.tidy(() => {
        vs.forEach((v, i) => {
          let g = gs[i]!;
          if (cfg.weightDecay > 0) g = tf.add(g, tf.mul(v, cfg.weightDecay));
          const nm = tf.add(tf.mul(m[i]!, cfg.beta1), tf.mul(g, 1 - cfg.beta1));
          const ns = tf.add(tf.mul(s[i]!, cfg.beta2), tf.mul(tf.square(g), 1 - cfg.beta2));
          m[i]!.assign(nm);
          s[i]!.assign(ns);
          const upd = tf.div(tf.div(nm, c1), tf.add(tf.sqrt(tf.div(ns, c2)), cfg.epsilon));
          v.assign(tf.sub(v, tf.mul(upd, lr)));
        });
      });
    },
    dispose() {
      [...m, ...s].forEach((x) => x.dispose());
    },
  };
}
