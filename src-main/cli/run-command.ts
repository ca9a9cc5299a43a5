/** `modelab run`: run a preset or a recipe file, with progress on stderr and a summary or one JSON document on stdout. */
import path from 'node:path';
import { selectBackend } from '../engine/backend/backends';
import { type RunArtifacts, writeRunDir } from '../engine/io/export';
import { loadPreset, loadRecipeFile } from '../engine/recipe/presets';
import { runRecipe } from '../engine/recipe/run';
import { type AnyRecipe, isCounterexample } from '../engine/recipe/schema';
import { runCounterexample } from '../engine/recipe/counterexample-run';
import type { EndpointResult, PathResult } from '../engine/recipe/result';
import type { HostParams } from '../engine/nn/params';
import type { ParamPath } from '../engine/paths/path';
import type { Split } from '../engine/data/dataset';
import { InputError } from '../engine/util/errors';
import { intOption, parse } from './args';
import { ProgressRenderer } from './progress';
import { runSummary } from './summary';

export const RUN_HELP = `Usage: modelab run (--preset NAME | --config FILE) [options]

Trains the recipe's endpoints, evaluates them, builds and evaluates its paths, and reports barrier metrics.

Options:
  --preset NAME      a built-in recipe (see: modelab presets)
  --config FILE      a recipe JSON file (schema: docs/recipes.md)
  --backend NAME     tensorflow-gpu | tensorflow | webgpu | wasm | cpu (default: fastest available;
                     also MODELAB_BACKEND)
  --seed N           base seed; endpoint seeds derive from it unless the recipe fixes them
  --data DIR         dataset folder (CIFAR-10 binary batches)
  --exact            evaluate on the full training and test sets
  --json             print exactly one JSON document on stdout (progress stays on stderr)
  --out DIR          also write DIR/run.json, endpoint weights, the evaluation data and every
                     path's vertices (DIR/paths/<name>.safetensors + .json): docs/export-format.md
  -h, --help         this help

Exit codes: 0 done, 2 bad input, 130 cancelled (Ctrl-C).`;

export async function runCommand(argv: string[], signal: AbortSignal): Promise<number> {
  const { values } = parse(argv, {
    preset: { type: 'string' },
    config: { type: 'string' },
    backend: { type: 'string' },
    seed: { type: 'string' },
    data: { type: 'string' },
    exact: { type: 'boolean' },
    json: { type: 'boolean' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values['help']) {
    process.stdout.write(`${RUN_HELP}\n`);
    return 0;
  }
  const preset = values['preset'] as string | undefined;
  const config = values['config'] as string | undefined;
  if (!preset === !config) throw new InputError('give exactly one of --preset NAME and --config FILE');
  const recipe: AnyRecipe = preset ? loadPreset(preset) : loadRecipeFile(config!);
  const seed = intOption(values['seed'], 'seed');
  if (seed !== undefined) recipe.seed = seed;
  if (values['exact'] && !isCounterexample(recipe)) recipe.evaluation = { ...recipe.evaluation, trainSamples: null, testSamples: null };
  const outDir = values['out'] as string | undefined;

  const backend = await selectBackend((values['backend'] as string | undefined) ?? process.env['MODELAB_BACKEND']);
  const progress = new ProgressRenderer();
  const artifacts: RunArtifacts = { endpoints: {}, paths: [] };
  const hooks = {
    onEndpoint: (e: EndpointResult, params: HostParams) => {
      artifacts.endpoints[e.name] = params;
    },
    onPath: (r: PathResult, p: ParamPath) => {
      if (outDir) artifacts.paths.push({ path: p, result: r });
    },
    onEvaluationData: (sets: { train: Split; test: Split }) => {
      if (outDir) artifacts.evalData = sets;
    },
  };
  const result = isCounterexample(recipe)
    ? await runCounterexample(recipe, { backend, preset, onProgress: (e) => progress.update(e), ...hooks })
    : await runRecipe(recipe, {
    backend,
    preset,
    dataDir: values['data'] as string | undefined,
    signal,
    onProgress: (e) => progress.update(e),
    ...hooks,
  });
  progress.finishLine();

  if (outDir) writeRunDir(outDir, result, artifacts);
  if (values['json']) process.stdout.write(`${JSON.stringify(result)}\n`);
  else process.stdout.write(`${runSummary(result)}\n${outDir ? `\nwrote ${outDir}: run.json, endpoints.safetensors, eval-data.safetensors, paths/\n` : ''}`);
  return 0;
}
