/**
 * Which data set a recipe uses and how it is prepared: the recipe's `dataset` section (recipe/schema.ts holds the
 * rest), owned here because the loaders (load.ts, shape.ts) read it.
 */
import { z } from 'zod';
import { fileField } from '../util/file-field';
import { RECIPE_LIMITS, boundedSize, boundedTries } from '../util/limits';

const posInt = boundedSize;
const tries = boundedTries;
const subsetSize = posInt.nullable().optional();
/** Sizes of the generated synthetic data sets. */
const syntheticTrain = posInt.default(2000).describe('Training samples generated.');
const syntheticTest = posInt.default(1000).describe('Test samples generated.');
const dataSeed = z.number().int().nonnegative().default(0).describe('Seed of the generated data (the same seed gives the same data set).');
const normalize = z.enum(['scale', 'standardize', 'none']);
/** How a 4-D image array of an npy dataset is stored (npy-folder.ts). */
const npyLayout = z.enum(['nchw', 'nhwc']);
/** An IDX file of an idx dataset. */
const idxFile = fileField(z.string().min(1).describe('An IDX file (relative: see docs/recipes.md, "Files a recipe names").'));

const realData = {
  train: subsetSize.describe('Use a deterministic subset of this many training samples (empty: all).'),
  test: subsetSize.describe('Use a deterministic subset of this many test samples (empty: all).'),
  subsetSeed: z.number().int().nonnegative().default(0).describe('Seed that picks the subsets.'),
  normalize: normalize.default('scale').describe('Pixel scaling: to [0, 1] (scale), per-channel mean 0 and std 1 (standardize), or raw (none).'),
};

export const datasetSchema = z.discriminatedUnion('name', [
  z.object({ name: z.literal('mnist'), ...realData }).strict(),
  z.object({ name: z.literal('fashion-mnist'), ...realData }).strict(),
  z
    .object({
      name: z.literal('cifar10'),
      dir: fileField(z.string().describe('Folder of the CIFAR-10 binary batches (empty: where `modelab data get cifar10` puts them).')).optional(),
      ...realData,
      normalize: normalize.default('standardize'),
    })
    .strict(),
  z
    .object({
      name: z.literal('idx'),
      trainImages: idxFile,
      trainLabels: idxFile,
      testImages: idxFile,
      testLabels: idxFile,
      classes: z.number().int().min(2).max(RECIPE_LIMITS.size).optional(),
      ...realData,
    })
    .strict(),
  z
    .object({
      name: z.literal('npy'),
      dir: fileField(z.string().min(1).describe('Folder holding x_train.npy, y_train.npy, x_test.npy and y_test.npy (docs/datasets.md).')),
      layout: npyLayout.optional().describe('How 4-D images are stored: nchw or nhwc (empty: nchw when the second dimension is 1 or 3, else nhwc).'),
      classes: z.number().int().min(2).max(RECIPE_LIMITS.size).optional().describe('Number of classes (empty: the largest label + 1).'),
      ...realData,
    })
    .strict(),
  z
    .object({
      name: z.literal('gaussian-mixture'),
      classes: z.number().int().min(2).max(RECIPE_LIMITS.size).default(4).describe('Number of classes.'),
      dim: posInt.default(16).describe('Input dimension.'),
      train: syntheticTrain,
      test: syntheticTest,
      separation: z.number().positive().default(4).describe('Distance scale between the cluster centres (larger: easier).'),
      noise: z.number().positive().default(1).describe('Standard deviation of each cluster.'),
      clustersPerClass: tries.default(2).describe('Gaussian clusters that make up each class.'),
      seed: dataSeed,
    })
    .strict(),
  z
    .object({
      name: z.literal('spirals'),
      arms: z.number().int().min(2).max(RECIPE_LIMITS.tries).default(2).describe('Spiral arms, one class each.'),
      turns: z.number().positive().max(RECIPE_LIMITS.tries).default(1.5).describe('Turns of each arm.'),
      noise: z.number().nonnegative().default(0.05).describe('Standard deviation of the noise added to each point.'),
      train: syntheticTrain,
      test: syntheticTest,
      seed: dataSeed,
    })
    .strict(),
]);


export type DatasetConfig = z.infer<typeof datasetSchema>;
