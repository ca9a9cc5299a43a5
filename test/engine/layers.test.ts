/**
 * The engine reads top to bottom: each folder of src-main/engine belongs to a layer, and a module imports only from its
 * own layer or those below it (type imports included: they are dependencies too). Folders of one layer may use each
 * other (the compute layer's backends, trainers and evaluators call one another). And the engine imports nothing of
 * the app around it (store, jobs, api, server, cli, electron), nor Electron or SQLite.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ENGINE = path.resolve(import.meta.dirname, '../../src-main/engine');

/** Bottom first. `version` is the file version.ts. */
const ENGINE_LAYERS: readonly (readonly string[])[] = [
  ['util', 'version'], // numbers, errors, progress, bounds
  ['data'], // data sets and their configuration
  ['nn'], // network specs, parameters, layouts
  ['io'], // files: atomic writes, safetensors
  ['backend', 'onnx', 'train', 'eval'], // compute: backends, training, evaluation
  ['align', 'paths', 'plane', 'curves', 'theory'], // paths between networks and the paper's constructions
  ['bench'], // what the bench measured on this machine
  ['recipe'], // configuration: the recipe, its presets, defaults and cost
  ['experiment'], // orchestration: running a recipe, its stages and results
  ['study'], // many runs as one: study recipes, their cells, aggregation over trials
];

const layerOf = (folder: string): number => ENGINE_LAYERS.findIndex((l) => l.includes(folder));

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

/** The engine folder of a path inside the engine ('version' for version.ts). */
const folderOf = (abs: string): string => path.relative(ENGINE, abs).split(path.sep)[0]!.replace(/\.ts$/, '');

/** Every import's specifier of a module: static, `import type`, re-exports and dynamic `import()`. */
function specifiers(text: string): string[] {
  return [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm)].map((m) => (m[1] ?? m[2])!);
}

/** Offences of one module: each upward import within the engine and each import of the app around it. */
function offencesOf(file: string, text: string): string[] {
  const from = folderOf(file);
  const out: string[] = [];
  for (const spec of specifiers(text)) {
    if (/^(electron|sqlite3)$/.test(spec)) out.push(`${path.relative(ENGINE, file)} imports ${spec}`);
    if (!spec.startsWith('.')) continue;
    const target = path.resolve(path.dirname(file), spec);
    const rel = path.relative(ENGINE, target);
    if (rel.startsWith('..')) {
      if (!/package\.json$/.test(rel)) out.push(`${path.relative(ENGINE, file)} imports ${spec}, outside the engine`);
      continue;
    }
    const to = folderOf(target);
    if (layerOf(to) > layerOf(from)) out.push(`${path.relative(ENGINE, file)} (${from}) imports ${spec} (${to}, a higher layer)`);
  }
  return out;
}

describe('engine layers', () => {
  it('places every engine folder in a layer', () => {
    const folders = readdirSync(ENGINE, { withFileTypes: true }).map((e) => (e.isDirectory() ? e.name : e.name.replace(/\.ts$/, '')));
    expect(folders.filter((f) => layerOf(f) < 0)).toEqual([]);
  });

  it('has no import that points upward, and none of the app around it', () => {
    const offences = files(ENGINE).flatMap((f) => offencesOf(f, readFileSync(f, 'utf8')));
    expect(offences).toEqual([]);
  });

  it('catches an upward import, a type import and one of the store', () => {
    const data = path.join(ENGINE, 'data/load.ts');
    expect(offencesOf(data, "import { recipeSchema } from '../recipe/schema';")).toHaveLength(1);
    expect(offencesOf(data, "import type { RunResult } from '../experiment/result';")).toHaveLength(1);
    expect(offencesOf(data, "const m = await import('../experiment/run');")).toHaveLength(1);
    expect(offencesOf(data, "import { openHistory } from '../../store/open';")).toHaveLength(1);
    expect(offencesOf(data, "import sqlite3 from 'sqlite3';")).toHaveLength(1);
    expect(offencesOf(path.join(ENGINE, 'experiment/run.ts'), "import { loadDataset } from '../data/load';")).toEqual([]);
  });
});
