/**
 * The recipe editor's knowledge of the recipe format (docs/recipes.md): which keys are choices, the templates a
 * discriminated section switches to, and immutable updates by path. Validation itself is the engine's (the
 * `validateRecipe` operation): this only helps the form offer sensible inputs.
 */
import type { InjectionKey } from 'vue';
import type { RecipeIssue, RecipeValidation } from '../api/types';
import { otherOptimizersSettings } from '../../../src-main/engine/recipe/optimizer-settings';
import { INIT_SCHEMES } from '../../../src-main/engine/nn/init';
import { WEIGHT_LAYOUTS } from '../../../src-main/engine/nn/weight-layouts';

export type Path = (string | number)[];

export const ENUMS: Record<string, readonly string[]> = {
  optimizer: ['sgd', 'adam'],
  normalize: ['scale', 'standardize', 'none'],
  padding: ['same', 'valid'],
  renormalize: ['none', 'repair'],
  method: ['weight', 'activation'],
  scale: ['columns', 'rows'],
  init: INIT_SCHEMES,
  layout: WEIGHT_LAYOUTS,
};

/** Discriminated sections: where they are, their key, and a minimal template per choice. */
export const DISCRIMINATED: { match: (p: Path) => boolean; key: string; templates: Record<string, Record<string, unknown>> }[] = [
  {
    match: (p) => p.length === 1 && p[0] === 'dataset',
    key: 'name',
    templates: {
      'gaussian-mixture': { name: 'gaussian-mixture', classes: 4, dim: 16, train: 2000, test: 1000 },
      spirals: { name: 'spirals', arms: 2, train: 2000, test: 1000 },
      mnist: { name: 'mnist', train: null, test: null, normalize: 'scale' },
      'fashion-mnist': { name: 'fashion-mnist', train: null, test: null, normalize: 'scale' },
      cifar10: { name: 'cifar10', train: null, test: null, normalize: 'standardize' },
      idx: { name: 'idx', trainImages: '', trainLabels: '', testImages: '', testLabels: '', normalize: 'scale' },
      npy: { name: 'npy', dir: '', train: null, test: null, normalize: 'scale' },
    },
  },
  {
    match: (p) => p.length === 1 && p[0] === 'architecture',
    key: 'type',
    templates: {
      mlp: { type: 'mlp', hidden: [512, 512], bias: false, dropout: 0 },
      cnn: { type: 'cnn', conv: [{ filters: 32, kernel: 3, pool: 2 }, { filters: 64, kernel: 3, pool: 2 }], dense: [128], bias: false },
    },
  },
  {
    match: (p) => p[p.length - 1] === 'schedule',
    key: 'type',
    templates: {
      constant: { type: 'constant' },
      step: { type: 'step', every: 10, factor: 0.1 },
      cosine: { type: 'cosine', minLr: 0 },
      'inverse-time': { type: 'inverse-time', decay: 0.001 },
    },
  },
  {
    match: (p) => p.length === 2 && p[0] === 'paths' && typeof p[1] === 'number',
    key: 'type',
    templates: {
      linear: { type: 'linear', points: 61 },
      theorem1: { type: 'theorem1', perSegment: 4 },
      theorem2: { type: 'theorem2' },
      theorem3: { type: 'theorem3', narrow: { width: 8 } },
      'dropout-line': { type: 'dropout-line' },
      'aligned-linear': { type: 'aligned-linear', method: 'weight' },
      bezier: { type: 'bezier', order: 2, epochs: 10 },
      polychain: { type: 'polychain', bends: 1, epochs: 10 },
    },
  },
];

export function discriminatorAt(objPath: Path): (typeof DISCRIMINATED)[number] | undefined {
  return DISCRIMINATED.find((d) => d.match(objPath));
}

/** A template for a new array item (paths, endpoints, conv layers…): the last item, or a known default. */
export function newItem(arrayPath: Path, items: unknown[]): unknown {
  const last = items[items.length - 1];
  const key = arrayPath[arrayPath.length - 1];
  if (key === 'paths') return { type: 'linear', points: 61 };
  if (key === 'endpoints') return { name: `E${items.length + 1}` };
  if (last !== undefined) {
    const copy = JSON.parse(JSON.stringify(last)) as unknown;
    if (copy && typeof copy === 'object' && 'name' in (copy as Record<string, unknown>)) delete (copy as Record<string, unknown>)['name'];
    return copy;
  }
  return 0;
}

export function getAt(root: unknown, path: Path): unknown {
  let v = root;
  for (const k of path) v = v && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined;
  return v;
}

/** A copy of root with the value at path replaced (undefined removes an object key). */
export function setAt(root: unknown, path: Path, value: unknown): unknown {
  if (!path.length) return value;
  const [k, ...rest] = path;
  if (Array.isArray(root)) {
    const copy = root.slice();
    copy[k as number] = setAt(copy[k as number], rest, value);
    return copy;
  }
  const obj = { ...((root && typeof root === 'object' ? root : {}) as Record<string, unknown>) };
  const next = setAt(obj[k as string], rest, value);
  if (next === undefined) delete obj[k as string];
  else obj[k as string] = next;
  return obj;
}

export function removeAt(root: unknown, path: Path): unknown {
  const parent = getAt(root, path.slice(0, -1));
  const k = path[path.length - 1]!;
  if (Array.isArray(parent)) return setAt(root, path.slice(0, -1), parent.filter((_, i) => i !== k));
  return setAt(root, path, undefined);
}

export const samePath = (a: Path, b: Path): boolean => a.length === b.length && a.every((x, i) => String(x) === String(b[i]));

/** The keys of an object the form shows: all but the settings of optimizers other than the one it chose. */
export function shownKeys(obj: Record<string, unknown>): string[] {
  const hidden = otherOptimizersSettings(obj);
  return Object.keys(obj).filter((k) => !hidden.includes(k));
}

/** Issues whose path is exactly `path`. */
export function issuesAt(issues: RecipeIssue[], path: Path): string[] {
  return issues.filter((i) => samePath(i.path, path)).map((i) => i.message);
}

/** Issues about keys of an object that has no field for them (missing or unknown keys). */
export function orphanIssues(issues: RecipeIssue[], objPath: Path, keys: string[]): RecipeIssue[] {
  return issues.filter((i) => i.path.length === objPath.length + 1 && samePath(i.path.slice(0, -1), objPath) && !keys.includes(String(i.path[objPath.length])));
}

/** Numbers as "64, 64": parse back, or an error message. */
export function parseNumberList(text: string): number[] | string {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  const nums = parts.map(Number);
  if (nums.some((n) => !Number.isFinite(n))) return 'numbers separated by commas';
  return nums;
}

/** A number field's text: the number it reads as, or what it should be. */
export function parseNumberText(text: string): number | string {
  const n = text.trim() === '' ? Number.NaN : Number(text);
  return Number.isFinite(n) ? n : 'a number';
}

/** Whether a field's text already reads as this value (then the text is left as typed, e.g. "0.50"). */
export function textShows(text: string, value: unknown): boolean {
  if (Array.isArray(value)) {
    const r = parseNumberList(text);
    return typeof r !== 'string' && r.length === value.length && r.every((x, i) => x === value[i]);
  }
  if (value === null) return text.trim() === '';
  return parseNumberText(text) === value;
}

/**
 * Every problem that stands between the form and Start, in the order shown. A JSON syntax error stands alone (the
 * last validation was of another recipe); otherwise fields whose text does not parse (the recipe still holds their
 * previous value, so the engine's message at that path is about a value no longer shown), the engine's issues, and
 * the resource estimate's refusal of the recipe (it cannot fit this machine), if any.
 */
export function formProblems(jsonError: string, textErrors: RecipeIssue[], validation: RecipeValidation | null, refusal: string | null = null): RecipeIssue[] {
  if (jsonError) return [{ path: [], message: `JSON: ${jsonError}` }];
  const engine = (validation?.issues ?? []).filter((i) => !textErrors.some((t) => samePath(t.path, i.path)));
  return [...textErrors, ...engine, ...(refusal ? [{ path: [], message: refusal }] : [])];
}

/** The line beside Start: checking, the problem count, or ready. */
export function formState(validating: boolean, problems: number, validation: RecipeValidation | null): string {
  if (validating) return 'checking…';
  if (problems) return `${problems} problem${problems === 1 ? '' : 's'}`;
  return validation?.ok ? 'ready' : '';
}

export interface FormContext {
  set(path: Path, value: unknown): void;
  /** A field whose text does not read as a value (message), or reads again (null): a problem until fixed. */
  reportText(path: Path, message: string | null): void;
  remove(path: Path): void;
  switchKind(objPath: Path, template: Record<string, unknown>): void;
  issues(): RecipeIssue[];
  /** The field's help text (the engine's schema description), if it has one. */
  help(path: Path): string | undefined;
  /** Fills in the defaults of what a choice brings (e.g. Adam's settings when Adam is chosen). */
  fillDefaults(): void;
  /** Chooses an endpoint's weights file (api/client.ts chooseWeightsFile); null when cancelled. */
  chooseWeightsFile(): Promise<string | null>;
}

/** Whether a path is one endpoint of the recipe (its object: `endpoints[i]`). */
export const isEndpointPath = (p: Path): boolean => p.length === 2 && p[0] === 'endpoints' && typeof p[1] === 'number';

/** An endpoint loaded from `weights` instead of trained: the fields that only training uses go (docs/recipes.md). */
export function loadedEndpoint(endpoint: Record<string, unknown>, weights: string): Record<string, unknown> {
  const { seed: _seed, training: _training, ...rest } = endpoint;
  return { ...rest, weights };
}

/** The endpoint trained again: the file's fields go. */
export function trainedEndpoint(endpoint: Record<string, unknown>): Record<string, unknown> {
  const { weights: _w, layout: _l, names: _n, ...rest } = endpoint;
  return rest;
}

export const FORM_KEY: InjectionKey<FormContext> = Symbol('recipe-form');
