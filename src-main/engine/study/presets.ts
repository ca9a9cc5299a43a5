/** Built-in study presets: the JSON study recipes in resources/studies/, beside the run presets. */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { jsonProblem, presetsDirectory } from '../recipe/presets';
import { InputError } from '../util/errors';
import { type ResolvedStudy, resolveStudy } from './expand';

const studiesDir = (): string => path.join(path.dirname(presetsDirectory()), 'studies');

export function listStudyPresets(): { name: string; description: string }[] {
  const dir = studiesDir();
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

export function loadStudyPreset(name: string, o: { quick?: boolean } = {}): ResolvedStudy {
  const file = path.join(studiesDir(), `${name}.json`);
  if (!/^[A-Za-z0-9_-]+$/.test(name) || !existsSync(file)) {
    throw new InputError(`unknown study preset '${name}' (study presets: ${listStudyPresets().map((p) => p.name).join(', ') || 'none'})`);
  }
  return resolveStudy({ name, ...(JSON.parse(readFileSync(file, 'utf8')) as object) }, `study preset ${name}`, o);
}

/** Reads a study recipe file given with --config. */
export function loadStudyFile(file: string, o: { quick?: boolean } = {}): ResolvedStudy {
  if (!existsSync(file)) throw new InputError(`study file not found: ${file}`);
  if (statSync(file).isDirectory()) throw new InputError(`study file ${file} is a folder, not a study recipe`);
  const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${file} is not valid JSON: ${jsonProblem(text, e as Error)}`);
  }
  return resolveStudy(doc, file, o);
}
