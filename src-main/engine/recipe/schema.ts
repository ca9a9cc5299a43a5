/**
 * The experiment recipe: one JSON document naming the dataset, the architecture, how each endpoint is trained, the
 * paths to build and how to evaluate them. Validated with zod; unknown keys are errors (they are usually typos).
 * Defaults are filled in, and the resolved recipe is what a run records.
 */
import { z } from 'zod';

/**
 * Upper bounds of the recipe's numbers (docs/recipes.md, "Bounds"): generous for research, they stop values no run
 * could mean. Sizes that take memory (widths, samples, points, batch) are bounded here only against overflow; the
 * resource estimate (estimate.ts) sets them against the machine's memory before a run starts.
 */
export const RECIPE_LIMITS = {
  /** Any count or size. */
  size: 1e12,
  /** Training epochs (fractional allowed) and checkpoint intervals. */
  epochs: 10_000,
  /** Training steps. */
  steps: 100_000_000,
  /** Repetitions that cost time, not memory: kept sets tried, Algorithm 1 tries, matching sweeps, noise iterations,
   *  narrow-network trials, histogram bins. */
  tries: 10_000,
  /** Kernel, stride and pool sizes. */
  kernel: 1024,
  /** Layers, endpoints, paths and the entries of any list. */
  items: 1000,
} as const;

const posInt = z.number().int().positive().max(RECIPE_LIMITS.size);
const tries = z.number().int().positive().max(RECIPE_LIMITS.tries);
const kernelSize = z.number().int().positive().max(RECIPE_LIMITS.kernel);
const epochs = z.number().positive().max(RECIPE_LIMITS.epochs);
const steps = z.number().int().positive().max(RECIPE_LIMITS.steps);
const prob = z.number().min(0).lt(1);
const subsetSize = posInt.nullable().optional();
const normalize = z.enum(['scale', 'standardize', 'none']);

const realData = {
  /** Use a deterministic subset of this many training / test samples (null: all). */
  train: subsetSize,
  test: subsetSize,
  subsetSeed: z.number().int().nonnegative().default(0),
  normalize: normalize.default('scale'),
};

export const datasetSchema = z.discriminatedUnion('name', [
  z.object({ name: z.literal('mnist'), ...realData }).strict(),
  z.object({ name: z.literal('fashion-mnist'), ...realData }).strict(),
  z.object({ name: z.literal('cifar10'), dir: z.string().optional(), ...realData, normalize: normalize.default('standardize') }).strict(),
  z
    .object({
      name: z.literal('idx'),
      trainImages: z.string(),
      trainLabels: z.string(),
      testImages: z.string(),
      testLabels: z.string(),
      classes: z.number().int().min(2).max(RECIPE_LIMITS.size).optional(),
      ...realData,
    })
    .strict(),
  z
    .object({
      name: z.literal('gaussian-mixture'),
      classes: z.number().int().min(2).max(RECIPE_LIMITS.size).default(4),
      dim: posInt.default(16),
      train: posInt.default(2000),
      test: posInt.default(1000),
      separation: z.number().positive().default(4),
      noise: z.number().positive().default(1),
      clustersPerClass: tries.default(2),
      seed: z.number().int().nonnegative().default(0),
    })
    .strict(),
  z
    .object({
      name: z.literal('spirals'),
      arms: z.number().int().min(2).max(RECIPE_LIMITS.tries).default(2),
      turns: z.number().positive().max(RECIPE_LIMITS.tries).default(1.5),
      noise: z.number().nonnegative().default(0.05),
      train: posInt.default(2000),
      test: posInt.default(1000),
      seed: z.number().int().nonnegative().default(0),
    })
    .strict(),
]);

const dropoutSpec = z.union([prob, z.array(prob).max(RECIPE_LIMITS.items)]).default(0);

const convLayer = z
  .object({
    filters: posInt,
    kernel: kernelSize.default(3),
    stride: kernelSize.default(1),
    padding: z.enum(['same', 'valid']).default('same'),
    /** Max-pool size (= stride) after the ReLU; null for none. */
    pool: kernelSize.nullable().default(null),
    dropout: prob.default(0),
  })
  .strict();

const denseLayer = z.union([posInt.transform((units) => ({ units, dropout: 0 })), z.object({ units: posInt, dropout: prob.default(0) }).strict()]);

export const architectureSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('mlp'),
      hidden: z.array(posInt).min(1).max(RECIPE_LIMITS.items),
      bias: z.boolean().default(false),
      /** One probability for every hidden layer, or one per hidden layer. */
      dropout: dropoutSpec,
      /** BatchNorm in every hidden layer, after the affine map and before the ReLU (nn/batchnorm.ts). */
      batchNorm: z.boolean().optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('cnn'),
      conv: z.array(convLayer).min(1).max(RECIPE_LIMITS.items),
      /** Hidden dense layers between the convolutions and the output layer. */
      dense: z.array(denseLayer).max(RECIPE_LIMITS.items).default([]),
      bias: z.boolean().default(false),
      /** BatchNorm in every hidden layer (per channel after each convolution, per unit in hidden dense layers). */
      batchNorm: z.boolean().optional(),
    })
    .strict(),
]);

const schedule = z.discriminatedUnion('type', [
  z.object({ type: z.literal('constant') }).strict(),
  z.object({ type: z.literal('step'), every: z.number().positive().max(RECIPE_LIMITS.steps), factor: z.number().positive() }).strict(),
  z.object({ type: z.literal('cosine'), minLr: z.number().nonnegative().default(0) }).strict(),
  z.object({ type: z.literal('inverse-time'), decay: z.number().nonnegative() }).strict(),
]);

export const trainingSchema = z
  .object({
    optimizer: z.enum(['sgd', 'adam']).default('sgd'),
    lr: z.number().positive().optional(),
    momentum: z.number().min(0).lt(1).default(0.9),
    nesterov: z.boolean().default(false),
    weightDecay: z.number().nonnegative().default(0),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.999),
    epsilon: z.number().positive().default(1e-8),
    schedule: schedule.default({ type: 'constant' }),
    batchSize: posInt.default(128),
    epochs: epochs.optional(),
    steps: steps.optional(),
    augment: z.object({ flip: z.boolean().default(false), crop: z.number().int().nonnegative().max(RECIPE_LIMITS.kernel).default(0) }).strict().optional(),
    checkpointEvery: epochs.optional(),
  })
  .strict()
  .refine((t) => !(t.epochs !== undefined && t.steps !== undefined), { message: 'give epochs or steps, not both' });

const endpoint = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only'),
    seed: z.number().int().nonnegative().optional(),
    /** Fields that override the shared training settings for this endpoint. */
    training: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

const pathName = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . and - only');

const pathEnds = { name: pathName.optional(), from: z.string().optional(), to: z.string().optional() };
const keepFraction = z.number().gt(0).lt(1);

/** Settings of the kept-set search of Definition 1 (used by the Theorem 1 path and the stability report). */
export const dropoutSearchSchema = z
  .object({
    /** Fraction of each hidden layer kept; Definition 1 (and Theorem 1) need at most ½. */
    keepFraction: keepFraction.default(0.5),
    /** Rescale factor of the kept outputs (default 1/keepFraction). */
    r: z.number().positive().optional(),
    /** Random kept sets tried (the paper used 20). */
    masks: z.number().int().nonnegative().max(RECIPE_LIMITS.tries).default(20),
    /** Also try the importance heuristic (mean activation × output-weight norm). */
    heuristic: z.boolean().default(true),
    /** Training samples used to rank candidates (the winner is then measured on the whole evaluation set). */
    searchSamples: posInt.default(2000),
  })
  .strict();

/** Algorithm 1 with retries (Theorems 2 and 3). */
const algorithm1Fields = {
  /** Tries of Algorithm 1 per network before taking the best one found. */
  maxTries: tries.default(20),
  /** A try is accepted when the straight segment θ → θ_1 stays within this much train loss of L(θ). */
  tolerance: z.number().nonnegative().default(0.1),
  /** Points of the straight segment checked during the retries (on `searchSamples` training samples). */
  checkPoints: tries.default(4),
  searchSamples: posInt.default(2000),
  perSegment: posInt.default(4),
};

/** Per-point renormalisation along a path: none, or REPAIR (Jordan et al. 2022; nn/renormalize.ts). A BatchNorm
 *  network's statistics are recomputed at every point anyway (evaluation.batchNorm), which is REPAIR for BN. */
const renormalize = z.enum(['none', 'repair']);

/** Training of a curve's free control points (Garipov et al. 2018; curves/train.ts). */
export const curveTrainingFields = {
  /** Epochs over the training set (or its `trainSamples` subset); fractional allowed. Or `steps`. */
  epochs: epochs.optional(),
  steps: steps.optional(),
  optimizer: z.enum(['sgd', 'adam']).default('sgd'),
  /** Base learning rate (default 0.05 for SGD, 0.001 for Adam). */
  lr: z.number().positive().optional(),
  momentum: z.number().min(0).lt(1).default(0.9),
  nesterov: z.boolean().default(false),
  /** L2 on the curve point θ(t): ½·wd·‖θ(t)‖² is added to each minibatch loss. */
  weightDecay: z.number().nonnegative().default(1e-4),
  schedule: schedule.default({ type: 'cosine', minLr: 0 }),
  batchSize: posInt.default(128),
  /** Train on a random subset of this many training samples (null: all). */
  trainSamples: posInt.nullable().default(null),
  /** Points evaluated along the curve, evenly spaced in t (polygonal bends fall on the grid when points − 1 is a
   *  multiple of bends + 1). */
  points: z.number().int().min(2).max(RECIPE_LIMITS.size).default(61),
  renormalize: renormalize.default('none'),
};

const bezierOrder = z.number().int().min(1).max(RECIPE_LIMITS.items).default(2);
const bends = z.number().int().min(1).max(RECIPE_LIMITS.items).default(1);

export const pathSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('linear'), ...pathEnds, points: z.number().int().min(2).max(RECIPE_LIMITS.size).default(61), renormalize: renormalize.optional() }).strict(),
  z
    .object({
      type: z.literal('bezier'),
      ...pathEnds,
      /** Degree n: n − 1 free control points (2 = quadratic, Garipov's 3 bends). */
      order: bezierOrder,
      ...curveTrainingFields,
    })
    .strict(),
  z
    .object({
      type: z.literal('polychain'),
      ...pathEnds,
      /** Free bends between the endpoints (1 = Garipov's PolyChain with 3 bends). */
      bends,
      ...curveTrainingFields,
    })
    .strict(),
  z
    .object({
      type: z.literal('aligned-linear'),
      ...pathEnds,
      /** Git Re-Basin weight matching, or activation matching (correlations on training samples). */
      method: z.enum(['weight', 'activation']).default('weight'),
      /** Weight matching: coordinate-descent sweeps at most. */
      maxIterations: tries.default(100),
      /** Activation matching: training evaluation samples whose activations are correlated. */
      samples: posInt.default(2000),
      points: z.number().int().min(2).max(RECIPE_LIMITS.size).default(61),
      renormalize: renormalize.default('none'),
      /** Instead of the straight line, a trained curve between θ_A and π(θ_B) (Tatro et al. 2020). */
      curve: z
        .object({
          type: z.enum(['bezier', 'polychain']),
          order: bezierOrder,
          bends,
          ...curveTrainingFields,
        })
        .strict()
        .optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('theorem1'),
      ...pathEnds,
      /** For a BatchNorm network: build the path between the BN-folded endpoints (nn/batchnorm.ts foldBatchNorm). */
      foldBatchNorm: z.boolean().optional(),
      /** Evaluated points per segment (vertices included); any number costs the same with structure-aware evaluation. */
      perSegment: posInt.default(4),
      dropout: dropoutSearchSchema.default({ keepFraction: 0.5, masks: 20, heuristic: true, searchSamples: 2000 }),
    })
    .strict(),
  z
    .object({
      type: z.literal('theorem2'),
      ...pathEnds,
      /** Dropout probability of Algorithm 1 (the theorem uses 3/4, so that at least half of each layer drops). */
      p: z.number().gt(0).lt(1).default(0.75),
      ...algorithm1Fields,
    })
    .strict(),
  z
    .object({
      type: z.literal('theorem3'),
      ...pathEnds,
      /** Dropout probability; default the theorem's smallest, 1.5·max_i h*_i/h_i. Must be ≤ 3/4. */
      p: z.number().gt(0).lt(1).optional(),
      /** The narrow network θ*: hidden width (one for all layers, or one per layer), trained like the endpoints
       *  without dropout, with optional training overrides. */
      narrow: z
        .object({
          width: z.union([posInt, z.array(posInt).max(RECIPE_LIMITS.items)]),
          training: z.record(z.string(), z.unknown()).optional(),
        })
        .strict(),
      ...algorithm1Fields,
    })
    .strict(),
  z
    .object({
      type: z.literal('dropout-line'),
      name: pathName.optional(),
      /** The network; the path ends at its dropped version. */
      from: z.string().optional(),
      /** Dropout probability: ⌊h(1−p)⌋ units kept per hidden layer, rescaled by 1/(1−p). */
      p: z.number().gt(0).lt(1).default(0.2),
      /** Redraw the kept sets until the dropped network reaches this training accuracy (the paper used 0.98). */
      minAcc: z.number().min(0).max(1).default(0.98),
      maxTries: tries.default(50),
      /** Where the 1/(1−p) goes: on the kept units' output columns (Definition 1) or input rows (the authors' code). */
      scale: z.enum(['columns', 'rows']).default('columns'),
      points: z.number().int().min(2).max(RECIPE_LIMITS.size).default(101),
      searchSamples: posInt.default(4096),
    })
    .strict(),
]);

const defaultFractions = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95];

export const stabilitySchema = z
  .object({
    /** Definition 1 for every endpoint: ε, the per-layer losses of θ_i and the chosen kept sets. */
    dropout: dropoutSearchSchema.optional(),
    /** The paper's Fig. 2 left: loss and accuracy of θ_1 (every hidden layer dropped) against the kept fraction, best
     *  of `masks` random kept sets (r = 1/fraction), mean ± std over the endpoints. */
    sweep: z
      .object({
        fractions: z.array(keepFraction).min(1).max(RECIPE_LIMITS.items).default(defaultFractions),
        masks: tries.default(20),
      })
      .strict()
      .optional(),
    /** The paper's Fig. 2 right: networks of the same depth with every hidden layer `width` wide, trained like the
     *  endpoints (no dropout), `trials` seeds each: do narrow networks reach low loss? */
    narrow: z
      .object({
        widths: z.array(posInt).min(1).max(RECIPE_LIMITS.items).default([1, 2, 4, 6, 8, 10]),
        trials: tries.default(2),
        training: z.record(z.string(), z.unknown()).optional(),
      })
      .strict()
      .optional(),
    /** Definitions 2–3 per layer over training points: layer cushion, interlayer cushion, activation contraction,
     *  interlayer smoothness (distributions and histograms; the paper's Fig. 3 left / App. D.3). */
    noise: z
      .object({
        samples: posInt.default(128),
        iterations: tries.default(20),
        p: z.number().gt(0).lt(1).default(0.5),
        ts: z.array(z.number().min(0).lt(1)).min(1).max(RECIPE_LIMITS.items).default([0, 0.5]),
        bins: tries.default(30),
      })
      .strict()
      .optional(),
  })
  .strict();

export const evaluationSchema = z
  .object({
    /** Training samples used for train loss/accuracy (null: the whole training set). */
    trainSamples: posInt.nullable().default(10000),
    /** Test samples (null: the whole test set). */
    testSamples: posInt.nullable().default(null),
    batchSize: posInt.default(1000),
    seed: z.number().int().nonnegative().default(0),
    /** BatchNorm networks: recompute BN statistics at every evaluated point (and for the endpoints) with a pass over
     *  the first `samples` training evaluation samples (Garipov et al.). Absent: { recompute: true, samples: 2000 }. */
    batchNorm: z.object({ recompute: z.boolean().default(true), samples: posInt.default(2000) }).strict().optional(),
  })
  .strict();

/** The 2D loss plane through θ_from, θ_to and a third network (plane/plane.ts). */
export const planeSchema = z
  .object({
    from: z.string().optional(),
    to: z.string().optional(),
    /** The third point: vertex `vertex` of path `path` (negative counts from the end, −1 = last). Default: the last
     *  vertex π(θ_B) of the first aligned path, else the first free control point of the first curve. */
    third: z.object({ path: pathName, vertex: z.number().int().default(-1) }).strict().optional(),
    /** Grid points per axis. */
    size: z.number().int().min(2).max(RECIPE_LIMITS.size).default(21),
    /** Margin around the three points, as a fraction of their extent on each axis. */
    margin: z.number().nonnegative().default(0.2),
    /** The first this many training / test evaluation samples are used at every grid point. */
    trainSamples: posInt.default(2000),
    testSamples: posInt.default(2000),
  })
  .strict();

export const recipeSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    seed: z.number().int().nonnegative().default(1),
    dataset: datasetSchema,
    architecture: architectureSchema,
    training: trainingSchema,
    endpoints: z.array(endpoint).min(1).max(RECIPE_LIMITS.items).default([{ name: 'A' }, { name: 'B' }]),
    paths: z.array(pathSchema).max(RECIPE_LIMITS.items).default([]),
    stability: stabilitySchema.optional(),
    evaluation: evaluationSchema.default({ trainSamples: 10000, testSamples: null, batchSize: 1000, seed: 0 }),
    plane: planeSchema.optional(),
  })
  .strict();

export type Recipe = z.infer<typeof recipeSchema>;
export type RecipeInput = z.input<typeof recipeSchema>;
export type DatasetConfig = z.infer<typeof datasetSchema>;
export type ArchitectureConfig = z.infer<typeof architectureSchema>;
export type TrainingConfig = z.infer<typeof trainingSchema>;
export type PathConfig = z.infer<typeof pathSchema>;
export type DropoutSearchConfig = z.infer<typeof dropoutSearchSchema>;
export type StabilityConfig = z.infer<typeof stabilitySchema>;
export type PlaneConfig = z.infer<typeof planeSchema>;

/** The Theorem 4 counterexample: a generated dataset and two analytic global minimizers, no training. */
export const counterexampleRecipeSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    experiment: z.literal('counterexample'),
    seed: z.number().int().nonnegative().default(1),
    /** Hidden width h of the student network. */
    width: z.number().int().min(2).max(RECIPE_LIMITS.tries).default(4),
    /** Points on each path. */
    points: z.number().int().min(2).max(RECIPE_LIMITS.steps).default(61),
    /** The trained curves (quadratic Bézier, one-bend polygonal chain) searched for a better path. */
    curves: z.object({ steps: steps.default(4000), lr: z.number().positive().default(0.01) }).strict().default({ steps: 4000, lr: 0.01 }),
  })
  .strict();

export type CounterexampleRecipe = z.infer<typeof counterexampleRecipeSchema>;
export type AnyRecipe = Recipe | CounterexampleRecipe;

export function isCounterexample(r: AnyRecipe): r is CounterexampleRecipe {
  return (r as CounterexampleRecipe).experiment === 'counterexample';
}
