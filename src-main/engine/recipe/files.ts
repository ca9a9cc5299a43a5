/**
 * The files a recipe names, in one place (docs/recipes.md, "Files a recipe names"): which fields name a file or a
 * folder, how a relative path is resolved, and the check of a server that reads only the folders it was given.
 *
 * The fields: endpoints[i].weights (a .safetensors file or a TensorFlow.js model.json, with its shards), dataset.dir
 * (an npy folder, a CIFAR-10 folder), dataset.trainImages, trainLabels, testImages and testLabels (idx files). Each is
 * marked with fileField in the schema, and test/engine/recipe-files.test.ts keeps recipeFiles equal to the marks: a
 * new file field the walk below forgets fails that test.
 */
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { CIFAR10_BATCH_FILES, cifar10DefaultDir } from '../data/cifar10';
import { npyFiles } from '../data/npy-folder';
import { weightFormat } from '../io/endpoint-weights';
import { tfjsShardFiles } from '../io/tfjs-layers';
import { type FieldPath, fieldError } from '../util/errors';
import { type AnyRecipe, isCounterexample } from './schema';

/** One field of a recipe that names a file or folder. */
export interface RecipeFile {
  field: FieldPath;
  /** The path as the recipe holds it now. */
  path: string;
  /** What a run reads through it besides the path itself: a folder's files, a model.json's shards. */
  reads(): string[];
  /** Writes a new path into the recipe. */
  set(p: string): void;
}

const IDX_FIELDS = ['trainImages', 'trainLabels', 'testImages', 'testLabels'] as const;

/** Where a run reads CIFAR-10's batches in `dir`: the folder itself or its cifar-10-batches-bin/ (data/cifar10.ts). */
function cifar10Reads(dir: string): string[] {
  return [dir, path.join(dir, 'cifar-10-batches-bin')].flatMap((d) => CIFAR10_BATCH_FILES.map((f) => path.join(d, f)));
}

/** Every file field the recipe fills (a CIFAR-10 recipe without `dir` names none: it reads cifar10DefaultDir). */
export function recipeFiles(recipe: AnyRecipe): RecipeFile[] {
  if (isCounterexample(recipe)) return [];
  const out: RecipeFile[] = [];
  recipe.endpoints.forEach((e, i) => {
    if (!e.weights) return;
    out.push({
      field: ['endpoints', i, 'weights'],
      path: e.weights,
      reads: () => (weightFormat(e.weights!) === 'tfjs' ? tfjsShardFiles(e.weights!) : []),
      set: (p) => (e.weights = p),
    });
  });
  const d = recipe.dataset;
  if (d.name === 'npy') out.push({ field: ['dataset', 'dir'], path: d.dir, reads: () => Object.values(npyFiles(d.dir)), set: (p) => (d.dir = p) });
  if (d.name === 'cifar10' && d.dir) out.push({ field: ['dataset', 'dir'], path: d.dir, reads: () => cifar10Reads(d.dir!), set: (p) => (d.dir = p) });
  if (d.name === 'idx') for (const k of IDX_FIELDS) out.push({ field: ['dataset', k], path: d[k], reads: () => [], set: (p) => (d[k] = p) });
  return out;
}

/** Where relative paths of a recipe lie: the recipe file's folder (`recipeFile` given) or the working folder. */
export interface FilesBase {
  dir: string;
  /** The recipe file (modelab run --config): its paths are relative to its folder. */
  recipeFile?: string;
}

/**
 * The recipe with every file field made absolute against `base`, in place. A recipe file's relative path that is
 * not there but is there relative to the working folder (where idx and npy paths used to be read from) is refused in one
 * line naming both places, rather than read from either by guess.
 */
export function resolveRecipeFiles<R extends AnyRecipe>(recipe: R, base: FilesBase): R {
  for (const f of recipeFiles(recipe)) {
    if (path.isAbsolute(f.path)) continue;
    const p = path.resolve(base.dir, f.path);
    if (base.recipeFile !== undefined && !existsSync(p)) {
      const fromCwd = path.resolve(f.path);
      if (fromCwd !== p && existsSync(fromCwd)) {
        throw fieldError(base.recipeFile, f.field, `${f.path} is relative to the recipe file's folder, where ${p} does not exist; ${fromCwd} (relative to the working folder) does: write that path`);
      }
    }
    f.set(p);
  }
  return recipe;
}

/** `p` with its symbolic links resolved: those of its deepest existing ancestor when it does not exist (yet). */
export function realPath(p: string): string {
  const abs = path.resolve(p);
  const rest: string[] = [];
  let at = abs;
  while (!existsSync(at)) {
    const up = path.dirname(at);
    if (up === at) break;
    rest.unshift(path.basename(at));
    at = up;
  }
  return path.join(realpathSync(at), ...rest);
}

/** The folders a server reads recipe files from (`modelab serve --files`, its weights folder, the datasets folder). */
export class FileRoots {
  private readonly real: string[];
  constructor(readonly roots: readonly string[]) {
    this.real = roots.map(realPath);
  }

  /** Whether `p`, its links resolved, lies in one of the folders. */
  contains(p: string): boolean {
    const r = realPath(p);
    return this.real.some((root) => {
      const rel = path.relative(root, r);
      return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
    });
  }

  /** The one-line reason a path is refused. */
  private refusal(p: string): string {
    return `${p} is outside the folders this server reads (${this.roots.join(', ')}); \`modelab serve --files DIR\` allows another`;
  }

  /**
   * Refuses (InputError naming the field) a recipe that names anything outside the folders, or reads anything
   * outside them through a link; the fields are then set to their real paths, so that the run reads what was checked.
   * `dataDir` is a start request's CIFAR-10 folder (modelab run --data), which replaces the recipe's.
   */
  checkRecipe(recipe: AnyRecipe, dataDir?: string): void {
    for (const f of recipeFiles(recipe)) {
      if (!this.contains(f.path)) throw fieldError('recipe', f.field, this.refusal(f.path));
      f.set(realPath(f.path));
      const out = f.reads().find((x) => !this.contains(x));
      if (out !== undefined) throw fieldError('recipe', f.field, this.refusal(out));
    }
    if (dataDir !== undefined) this.checkFolder(dataDir, 'dataDir');
    else if (!isCounterexample(recipe) && recipe.dataset.name === 'cifar10' && !recipe.dataset.dir) this.checkFolder(cifar10DefaultDir(), 'dataset.dir');
  }

  /** Refuses a CIFAR-10 folder (a request's dataDir, the app's folder check) outside the folders or linking out. */
  checkFolder(dir: string, what: string): void {
    const out = [dir, ...cifar10Reads(dir)].find((x) => !this.contains(x));
    if (out !== undefined) throw fieldError('', [what], this.refusal(out));
  }
}
