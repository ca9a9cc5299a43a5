/** Small recipes for job tests: one that finishes in seconds, one that trains long enough to be interrupted. */
import { parseRecipe } from '../../src-main/engine/recipe/resolve';
import type { Recipe } from '../../src-main/engine/recipe/schema';

export function tinyRecipe(name = 'tiny', seed = 1): Recipe {
  return parseRecipe({
    name,
    seed,
    dataset: { name: 'gaussian-mixture', classes: 3, dim: 8, train: 300, test: 150, seed: 0 },
    architecture: { type: 'mlp', hidden: [16, 16], dropout: 0.2 },
    training: { optimizer: 'sgd', lr: 0.05, batchSize: 50, epochs: 2 },
    paths: [
      { type: 'linear', points: 7 },
      { type: 'theorem1', perSegment: 2, dropout: { masks: 2, searchSamples: 100 } },
    ],
    stability: { dropout: { masks: 2, searchSamples: 100 } },
    evaluation: { trainSamples: null, testSamples: null, batchSize: 500 },
  });
}

/** ~6000 steps of a small MLP: a curve point every 60 steps, about a minute of training in all. */
export function longRecipe(name = 'long'): Recipe {
  return parseRecipe({
    name,
    dataset: { name: 'gaussian-mixture', classes: 4, dim: 16, train: 2000, test: 500, seed: 0 },
    architecture: { type: 'mlp', hidden: [64, 64] },
    training: { optimizer: 'sgd', lr: 0.05, batchSize: 64, steps: 6000 },
    endpoints: [{ name: 'A' }],
    paths: [],
    evaluation: { trainSamples: null, testSamples: null },
  });
}

/**
 * A few seconds: two endpoints trained 3 epochs with a checkpoint every epoch (epochs 1 and 2; the end is the
 * endpoint), the straight line and the weight-matched line, and a 5×5 loss plane through θ_A, θ_B and π(θ_B).
 */
export function planeRecipe(name = 'plane-checkpoints', seed = 1): Recipe {
  return parseRecipe({
    name,
    seed,
    dataset: { name: 'gaussian-mixture', classes: 3, dim: 8, train: 240, test: 120, seed: 0 },
    architecture: { type: 'mlp', hidden: [16, 16] },
    training: { optimizer: 'sgd', lr: 0.05, momentum: 0.9, batchSize: 40, epochs: 3, checkpointEvery: 1 },
    paths: [
      { type: 'linear', points: 5 },
      { type: 'aligned-linear', method: 'weight', points: 5 },
    ],
    plane: { size: 5, margin: 0.2, trainSamples: 120, testSamples: 120 },
    evaluation: { trainSamples: null, testSamples: null, batchSize: 500 },
  });
}

/** Like longRecipe (about a minute of training), in epochs with a checkpoint after every one (125 steps each). */
export function longCheckpointRecipe(name = 'long-checkpoints', endpoints: string[] = ['A']): Recipe {
  return parseRecipe({
    name,
    dataset: { name: 'gaussian-mixture', classes: 4, dim: 16, train: 2000, test: 500, seed: 0 },
    architecture: { type: 'mlp', hidden: [64, 64] },
    training: { optimizer: 'sgd', lr: 0.05, batchSize: 16, epochs: 48, checkpointEvery: 1 },
    endpoints: endpoints.map((e) => ({ name: e })),
    paths: [],
    evaluation: { trainSamples: null, testSamples: null },
  });
}
