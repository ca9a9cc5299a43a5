/** Built-in experiment presets: the JSON recipes in resources/presets/. */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../util/errors';
import { resolveRecipeFiles } from './files';
import { parseAnyRecipe } from './resolve';
import type { AnyRecipe } from './schema';

let presetsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../resources/presets');

/** Where presets are read from (the packaged app keeps resources/ elsewhere). */
export function setPresetsDir(dir: string): void {
  presetsDir = dir;
}

/** The JSON documents of a preset folder by name, with their descriptions (run presets here, study presets beside). */
export function listJsonPresets(dir: string): { name: string; description: string }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.replace(/\.json$/, ''))
    .sort()
    .map((name) => {
      const doc = JSON.parse(readFileSync(path.join(dir, `${name}.json`), 'utf8')) as { description?: string };
      return { name, description: doc.description ?? '' };
    });
}

export function listPresets(): { name: string; description: string }[] {
  return listJsonPresets(presetsDir);
}

/** The folder presets are read from; study presets sit beside it (engine/study/presets.ts). */
export function presetsDirectory(): string {
  return presetsDir;
}

/** A preset's JSON document as written, before validation and defaults (a study sets fields of it, then validates). */
export function presetDocument(name: string): unknown {
  const file = path.join(presetsDir, `${name}.json`);
  if (!/^[A-Za-z0-9_-]+$/.test(name) || !existsSync(file)) {
    throw new InputError(`unknown preset '${name}' (presets: ${listPresets().map((p) => p.name).join(', ')})`);
  }
  return JSON.parse(readFileSync(file, 'utf8'));
}

export function loadPreset(name: string): AnyRecipe {
  return parseAnyRecipe(presetDocument(name), `preset ${name}`);
}

/** A JSON file given with --config (`what`: how messages name it), parsed; one line for a missing file, a folder or
 *  bad JSON. */
export function readJsonDocument(file: string, what: 'config' | 'study'): unknown {
  if (!existsSync(file)) throw new InputError(`${what} file not found: ${file}`);
  if (statSync(file).isDirectory()) throw new InputError(`${what} file ${file} is a folder, not a ${what === 'config' ? 'recipe' : 'study recipe'}`);
  // A UTF-8 byte-order mark (some editors write one) is not part of the JSON.
  const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(`${file} is not valid JSON: ${jsonProblem(text, e as Error)}`);
  }
}

/** Reads a recipe file given with --config. */
export function loadRecipeFile(file: string): AnyRecipe {
  const doc = readJsonDocument(file, 'config');
  // Files the recipe names are relative to the recipe file's folder.
  return resolveRecipeFiles(parseAnyRecipe(doc, file), { dir: path.dirname(path.resolve(file)), recipeFile: file });
}

/**
 * What is wrong with `text`, in one line that quotes none of it (it may be any bytes): V8's message for an unexpected
 * character echoes the text around it, so the character is named instead (as U+XXXX unless plain ASCII).
 */
function jsonProblem(text: string, e: Error): string {
  const hint = /(^|[\s:,[])-?(NaN|Infinity)\b/.test(text) ? ' (NaN and Infinity are not JSON numbers: write a number, or null)' : '';
  const m = /^Unexpected token '([\s\S]+?)', /u.exec(e.message);
  if (!m) return `${e.message.replace(/\s+/g, ' ')}${hint}`;
  const c = m[1]!;
  const cp = c.codePointAt(0)!;
  const named = /^[\x21-\x7e]$/.test(c) ? `'${c}'` : `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return `unexpected character ${named}${hint}`;
}
