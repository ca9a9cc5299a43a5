/**
 * A recipe field named by its path, as a study's axes name them: dotted keys and `[i]` indices, e.g.
 * `architecture.hidden`, `paths[2].p`, `training.steps`. Parsed into a FieldPath and set on a copy of a document.
 */
import { type FieldPath, InputError } from '../util/errors';

/** Keys that would reach an object's prototype, not a recipe field. */
const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);
const SEGMENT = /^([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)$/;

/** `paths[2].p` → `['paths', 2, 'p']`; a malformed path is a one-line InputError naming it. */
export function parseFieldPath(text: string): FieldPath {
  const out: FieldPath = [];
  for (const part of text.split('.')) {
    const m = SEGMENT.exec(part);
    if (!m || FORBIDDEN.has(m[1]!)) throw new InputError(`field '${text}' is not a recipe field path (keys joined by '.', list entries as [i], e.g. paths[2].p)`);
    out.push(m[1]!);
    for (const [, i] of m[2]!.matchAll(/\[(\d+)\]/g)) out.push(Number(i));
  }
  return out;
}

/** The path written back as text: `['paths', 2, 'p']` → `paths[2].p`. */
export function formatFieldPath(path: FieldPath): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A copy of `doc` with the field at `path` set to `value` (the value copied too). Every step but the last must exist in
 * `doc`; the last may be a new key of an object (the recipe schema then rejects a key that is no field), but a list
 * index must already be there. Anything else is a one-line InputError naming the path and the missing step.
 */
export function setField(doc: unknown, path: FieldPath, value: unknown): unknown {
  const name = formatFieldPath(path);
  if (path.length === 0) throw new InputError('an empty field path');
  const root = structuredClone(doc);
  let at: unknown = root;
  path.forEach((key, depth) => {
    const here = formatFieldPath(path.slice(0, depth)) || 'the recipe';
    const last = depth === path.length - 1;
    if (typeof key === 'number') {
      if (!Array.isArray(at)) throw new InputError(`unknown field '${name}': ${here} is not a list`);
      if (key >= at.length) throw new InputError(`unknown field '${name}': ${here} has ${at.length} entries`);
      if (last) at[key] = structuredClone(value);
      else at = at[key];
    } else {
      if (!isObject(at)) throw new InputError(`unknown field '${name}': ${here} is not an object`);
      if (last) at[key] = structuredClone(value);
      else if (!Object.hasOwn(at, key)) throw new InputError(`unknown field '${name}': ${here} has no '${key}'`);
      else at = at[key];
    }
  });
  return root;
}
