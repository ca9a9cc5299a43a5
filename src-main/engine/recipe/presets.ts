/** Built-in experiment presets: the JSON recipes in resources/presets/. */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../util/errors';
import { parseAnyRecipe } from './resolve';
import type { AnyRecipe } from './schema';

let presetsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../resources/presets');

/** Where presets are read from (the packaged app keeps resources/ elsewhere). */
export function setPresetsDir(dir: string): void {
  presetsDir = dir;
}

export function listPresets(): { name: string; description: string }[] {
  if (!existsSync(presetsDir)) return [];
  return readdirSync(presetsDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.replace(/\.json$/, ''))
    .sort()
    .map((name) => {
      const f = `${name}.json`;
      const doc = JSON.parse(readFileSync(path.join(presetsDir, f), 'utf8')) as { name: string; description?: string };
      return { name, description: doc.description ?? '' };
    });
}

export function loadPreset(name: string): AnyRecipe {
  const file = path.join(presetsDir, `${name}.json`);
  if (!/^[A-Za-z0-9_-]+$/.test(name) || !existsSync(file)) {
    throw new InputError(`unknown preset '${name}' (presets: ${listPresets().map((p) => p.name).join(', ')})`);
  }
  return parseAnyRecipe(JSON.parse(readFileSync(file, 'utf8')), `preset ${name}`);
}

/** Reads a recipe file given with --config. */
export function loadRecipeFile(file: string): AnyRecipe {
  if (!existsSync(file)) throw new InputError(`config file not found: ${file}`);
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InputError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  return parseAnyRecipe(doc, file);
}
