/** Recipe field help comes from one place, the schema's descriptions, along the variant each section chose. */
import { describe, expect, it } from 'vitest';
import { fieldHelp } from '../../src-main/engine/recipe/field-help';
import { OPTIMIZER_SETTINGS, otherOptimizersSettings } from '../../src-main/engine/recipe/optimizer-settings';
import { loadPreset } from '../../src-main/engine/recipe/presets';
import { recipeSchema, type Recipe } from '../../src-main/engine/recipe/schema';

describe('recipe field help', () => {
  const smoke = loadPreset('smoke') as Recipe;
  const help = fieldHelp(recipeSchema, smoke);

  it('describes the fields a new user edits first, by their dotted path', () => {
    expect(help['training.lr']).toMatch(/learning rate/i);
    expect(help['training.momentum']).toMatch(/SGD momentum/);
    expect(help['training.beta1']).toMatch(/^Adam/);
    expect(help['training.epochs']).toMatch(/Passes over the training set/);
    expect(help['seed']).toMatch(/seed/i);
    expect(help['architecture.hidden']).toMatch(/hidden layer/);
    expect(help['architecture.dropout']).toMatch(/Dropout probability/);
    expect(help['dataset.clustersPerClass']).toMatch(/clusters/);
    expect(help['evaluation.trainSamples']).toMatch(/train loss/);
  });

  it('follows each discriminated section into the variant the recipe chose, and into list items', () => {
    expect(help['training.schedule.minLr']).toMatch(/cosine/);
    expect(help['paths.0.points']).toMatch(/straight line/);
    expect(help['paths.1.perSegment']).toMatch(/per segment/);
    expect(help['paths.1.dropout.keepFraction']).toMatch(/Fraction of each hidden layer kept/);
    const step = fieldHelp(recipeSchema, { ...smoke, training: { ...smoke.training, schedule: { type: 'step', every: 10, factor: 0.1 } } });
    expect(step['training.schedule.every']).toMatch(/every this many epochs/);
    expect(step['training.schedule.minLr']).toBeUndefined();
  });

  it('walks an invalid recipe too, without throwing, giving help where the shape allows', () => {
    const h = fieldHelp(recipeSchema, { name: 'x', training: { lr: 'fast' }, dataset: { name: 'nope' }, paths: 3 });
    expect(h['training.lr']).toMatch(/learning rate/i);
    expect(h['dataset.name']).toBeUndefined();
  });
});

describe('optimizer settings', () => {
  it('names, for a training block, the settings of the optimizers it did not choose', () => {
    expect(otherOptimizersSettings({ optimizer: 'sgd', momentum: 0.9, beta1: 0.9 })).toEqual([...OPTIMIZER_SETTINGS.adam]);
    expect(otherOptimizersSettings({ optimizer: 'adam' })).toEqual([...OPTIMIZER_SETTINGS.sgd]);
    expect(otherOptimizersSettings({ lr: 0.1 })).toEqual([]);
  });
});
