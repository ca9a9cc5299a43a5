/** Built-in study presets: the JSON study recipes in resources/studies/, beside the run presets. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { listJsonPresets, presetsDirectory, readJsonDocument } from '../recipe/presets';
import { InputError } from '../util/errors';
import { type ResolvedStudy, resolveStudy } from './expand';

const studiesDir = (): string => path.join(path.dirname(presetsDirectory()), 'studies');

export function listStudyPresets(): { name: string; description: string }[] {
  return listJsonPresets(studiesDir());
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
  const doc = readJsonDocument(file, 'study');
  return resolveStudy(doc, file, o);
}
