/**
 * The experiment recipe: one JSON document naming the dataset, the architecture, how each endpoint is trained, the
 * paths to build and how to evaluate them. Validated with zod; unknown keys are errors (they are usually typos).
 * Defaults are filled in, and the resolved recipe is what a run records.
 */
import { z } from 'zod';
import { datasetSchema } from '../data/config';
import { WEIGHT_LAYOUTS } from '../nn/weight-layouts';
import { INIT_SCHEMES } from '../nn/init';
import { fileField } from '../util/file-field';
import { RECIPE_LIMITS, boundedSize, boundedTries } from '../util/limits';

const posInt = boundedSize;
const tries = boundedTries;
const kernelSize = z.number().int().positive().max(RECIPE_LIMITS.kernel);
const epochs = z.number().positive().max(RECIPE_LIMITS.epochs);
const steps = z.number().int().positive().max(RECIPE_LIMITS.steps);
const prob = z.number().min(0).lt(1);
const dropoutSpec = z.union([prob, z.array(prob).max(RECIPE_LIMITS.items)]).default(0).describe('Dropout probability while training: one for every hidden layer, or one per hidden layer.');

const convLayer = z
  .object({
    filters: posInt.describe('Output channels of the convolution.'),
    kernel: kernelSize.default(3).describe('Kernel size (square).'),
    stride: kernelSize.default(1).describe('Stride of the convolution.'),
    padding: z.enum(['same', 'valid']).default('same').describe('same: the output keeps the input size; valid: no padding.'),
    pool: kernelSize.nullable().default(null).describe('Max-pool size (= stride) after the ReLU; empty for none.'),
    dropout: prob.default(0).describe('Channel dropout probability after this layer while training.'),
  })
  .strict();

const denseLayerObject = z.object({ units: posInt, dropout: prob.default(0) }).strict();
// A bare width is the layer without dropout. A codec rather than a transform: its output has a JSON Schema (the run
// document's config, docs/run-json.schema.json).
const denseLayer = z.union([
  z.codec(posInt, denseLayerObject, { decode: (units) => ({ units, dropout: 0 }), encode: (layer) => layer.units }),
  denseLayerObject,
]);

/** How the endpoints' kernels are initialised (nn/init.ts); absent: 'he-fan-in' (runs from before the field). */
const initScheme = z
  .enum(INIT_SCHEMES)
  .optional()
  .describe('How the kernels start: he-fan-in (default), he-fan-out-conv (the VGG-on-CIFAR code), glorot-uniform (Keras).');

export const architectureSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('mlp'),
      hidden: z.array(posInt).min(1).max(RECIPE_LIMITS.items).describe('Width of each hidden layer, input side first.'),
      bias: z.boolean().default(false).describe('Bias terms in the layers (the paper’s networks have none).'),
      dropout: dropoutSpec,
      batchNorm: z.boolean().optional().describe('BatchNorm in every hidden layer, after the affine map and before the ReLU.'),
      init: initScheme,
    })
    .strict(),
  z
    .object({
      type: z.literal('cnn'),
      conv: z.array(convLayer).min(1).max(RECIPE_LIMITS.items).describe('Convolution layers, input side first.'),
      dense: z.array(denseLayer).max(RECIPE_LIMITS.items).default([]).describe('Hidden dense layers between the convolutions and the output layer (units, or units and dropout).'),
      bias: z.boolean().default(false).describe('Bias terms in the layers (the paper’s networks have none).'),
      batchNorm: z.boolean().optional().describe('BatchNorm in every hidden layer: per channel after each convolution, per unit in hidden dense layers.'),
      init: initScheme,
    })
    .strict(),
]);

const schedule = z.discriminatedUnion('type', [
  z.object({ type: z.literal('constant') }).strict(),
  z
    .object({
      type: z.literal('step'),
      every: z.number().positive().max(RECIPE_LIMITS.steps).describe('Multiply the learning rate by factor every this many epochs.'),
      factor: z.number().positive().describe('Factor applied at each step of the schedule (e.g. 0.1).'),
    })
    .strict(),
  z.object({ type: z.literal('cosine'), minLr: z.number().nonnegative().default(0).describe('Learning rate at the end of the cosine decay.') }).strict(),
  z.object({ type: z.literal('inverse-time'), decay: z.number().nonnegative().describe('lr / (1 + decay · step).') }).strict(),
]);

const optimizer = z.enum(['sgd', 'adam']).describe('sgd: stochastic gradient descent with momentum; adam: Adam.');
const lr = z.number().positive().describe('Base learning rate (default 0.05 for SGD, 0.001 for Adam).');
const momentum = z.number().min(0).lt(1).describe('SGD momentum (0: plain SGD).');
const nesterov = z.boolean().describe('Nesterov momentum (SGD).');
const learningSchedule = schedule.describe('How the learning rate changes over training.');
const batchSize = posInt.describe('Training samples per minibatch.');
const trainEpochs = epochs.describe('Passes over the training set (fractional allowed); or give steps instead.');
const trainSteps = steps.describe('Minibatch steps; instead of epochs.');

export const trainingSchema = z
  .object({
    optimizer: optimizer.default('sgd'),
    lr: lr.optional(),
    momentum: momentum.default(0.9),
    nesterov: nesterov.default(false),
    weightDecay: z.number().nonnegative().default(0).describe('L2 weight decay: ½·wd·‖θ‖² is added to each minibatch loss.'),
    beta1: z.number().min(0).lt(1).default(0.9).describe('Adam: decay rate of the gradient’s running mean.'),
    beta2: z.number().min(0).lt(1).default(0.999).describe('Adam: decay rate of the squared gradient’s running mean.'),
    epsilon: z.number().positive().default(1e-8).describe('Adam: added to the denominator for numerical stability.'),
    schedule: learningSchedule.default({ type: 'constant' }),
    batchSize: batchSize.default(128),
    epochs: trainEpochs.optional(),
    steps: trainSteps.optional(),
    augment: z
      .object({
        flip: z.boolean().default(false).describe('Random horizontal flips.'),
        crop: z.number().int().nonnegative().max(RECIPE_LIMITS.kernel).default(0).describe('Random crops after padding by this many pixels (0: none).'),
      })
      .strict()
      .optional().describe('Data augmentation of the training images.'),
    checkpointEvery: epochs.optional().describe('Keep a checkpoint of the weights every this many epochs.'),
  })
  .strict()
  .refine((t) => !(t.epochs !== undefined && t.steps !== undefined), { message: 'give epochs or steps, not both' });

const endpoint = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only').describe('Name of this network (paths refer to it).'),
    seed: z.number().int().nonnegative().optional().describe('Seed of its initialisation and minibatch order (default: derived from the recipe seed).'),
    training: z.record(z.string(), z.unknown()).optional().describe('Fields that override the shared training settings for this endpoint.'),
    weights: fileField(
      z
        .string()
        .min(1)
        .describe('Load this network from a file instead of training it: a .safetensors state_dict or a TensorFlow.js model.json (relative: docs/recipes.md, "Files a recipe names"; docs/bring-your-own-model.md).'),
    ).optional(),
    layout: z.enum(WEIGHT_LAYOUTS).optional().describe('How the weights file lays tensors out: torch (default for .safetensors), keras (model.json) or modelab.'),
    names: z
      .record(z.string(), z.string())
      .optional()
      .describe('ModeLab parameter (A1.w, A1.b, A1.bn.gamma, …) → the file’s tensor name, for every parameter; instead of the order of appearance.'),
  })
  .strict();

const pathName = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . and - only');

const pathEnds = {
  name: pathName.optional().describe('Name of the path in charts and results (default: its type).'),
  from: z.string().optional().describe('Endpoint the path starts at (default: the first).'),
  to: z.string().optional().describe('Endpoint the path ends at (default: the second).'),
};
const keepFraction = z.number().gt(0).lt(1);

/** Settings of the kept-set search of Definition 1 (used by the Theorem 1 path and the stability report). */
export const dropoutSearchSchema = z
  .object({
    keepFraction: keepFraction.default(0.5).describe('Fraction of each hidden layer kept; Definition 1 (and Theorem 1) need at most ½.'),
    r: z.number().positive().optional().describe('Rescale factor of the kept outputs (default 1/keepFraction).'),
    masks: z.number().int().nonnegative().max(RECIPE_LIMITS.tries).default(20).describe('Random kept sets tried (the paper used 20).'),
    heuristic: z.boolean().default(true).describe('Also try the importance heuristic (mean activation × output-weight norm).'),
    searchSamples: posInt.default(2000).describe('Training samples used to rank candidates (the winner is then measured on the whole evaluation set).'),
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
  epochs: trainEpochs.optional(),
  steps: trainSteps.optional(),
  optimizer: optimizer.default('sgd'),
  lr: lr.optional(),
  momentum: momentum.default(0.9),
  nesterov: nesterov.default(false),
  weightDecay: z.number().nonnegative().default(1e-4).describe('L2 on the curve point θ(t): ½·wd·‖θ(t)‖² is added to each minibatch loss.'),
  schedule: learningSchedule.default({ type: 'cosine', minLr: 0 }),
  batchSize: batchSize.default(128),
  trainSamples: posInt.nullable().default(null).describe('Train on a random subset of this many training samples (empty: all).'),
  /** Points evaluated along the curve, evenly spaced in t (polygonal bends fall on the grid when points − 1 is a
   *  multiple of bends + 1). */
  points: z.number().int().min(2).max(RECIPE_LIMITS.size).default(61),
  renormalize: renormalize.default('none'),
};

const bezierOrder = z.number().int().min(1).max(RECIPE_LIMITS.items).default(2);
const bends = z.number().int().min(1).max(RECIPE_LIMITS.items).default(1);

export const pathSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('linear'),
      ...pathEnds,
      points: z.number().int().min(2).max(RECIPE_LIMITS.size).default(61).describe('Points evaluated along the straight line, evenly spaced in t.'),
      renormalize: renormalize.optional(),
    })
    .strict(),
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
      perSegment: posInt.default(4).describe('Evaluated points per segment (vertices included).'),
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
    trainSamples: posInt.nullable().default(10000).describe('Training samples used for train loss and accuracy (empty: the whole training set).'),
    testSamples: posInt.nullable().default(null).describe('Test samples used for test loss and accuracy (empty: the whole test set).'),
    batchSize: posInt.default(1000).describe('Samples per evaluation batch (memory, not results).'),
    seed: z.number().int().nonnegative().default(0).describe('Seed that picks the evaluation subsets.'),
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
    name: z.string().min(1).describe('Name of the recipe (the run’s default name).'),
    description: z.string().optional().describe('What the experiment is for.'),
    seed: z.number().int().nonnegative().default(1).describe('Base seed: each endpoint’s seed derives from it unless set.'),
    dataset: datasetSchema,
    architecture: architectureSchema,
    training: trainingSchema,
    endpoints: z.array(endpoint).min(1).max(RECIPE_LIMITS.items).default([{ name: 'A' }, { name: 'B' }]).describe('The networks trained independently, then connected by the paths.'),
    paths: z.array(pathSchema).max(RECIPE_LIMITS.items).default([]).describe('Paths built and evaluated between endpoints.'),
    stability: stabilitySchema.optional(),
    evaluation: evaluationSchema.default({ trainSamples: 10000, testSamples: null, batchSize: 1000, seed: 0 }),
    plane: planeSchema.optional(),
  })
  .strict();

export type Recipe = z.infer<typeof recipeSchema>;
export type RecipeInput = z.input<typeof recipeSchema>;
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
