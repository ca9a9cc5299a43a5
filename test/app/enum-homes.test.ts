/**
 * One home each for the run statuses (store/types.ts) and the backend names (engine/backend/names.ts): no other
 * source spells either list out (the migrations' CHECK constraints are history, written once and never changed).
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACTIVE_STATUSES, FINAL_STATUSES, RUN_STATUSES } from '../../src-main/store/types';

const ROOT = path.resolve(import.meta.dirname, '../..');

function sources(): { file: string; text: string }[] {
  return ['src-main', 'src-renderer/src'].flatMap((dir) =>
    readdirSync(path.join(ROOT, dir), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && /\.(ts|vue)$/.test(e.name) && !e.parentPath.includes(`${path.sep}migrations`))
      .map((e) => path.join(e.parentPath, e.name))
      .map((f) => ({ file: path.relative(ROOT, f).split(path.sep).join('/'), text: readFileSync(f, 'utf8') })),
  );
}

/** Files whose code (comments aside) holds three or more of these names in a row: a copy of the list, whole or cut. */
function listing(names: readonly string[]): string[] {
  const name = `['"](?:${names.join('|')})['"]`;
  const run = new RegExp(`${name}\\s*,\\s*${name}\\s*,\\s*${name}`);
  const code = (text: string): string => text.split('\n').filter((l) => !/^\s*(\*|\/\/|\/\*)/.test(l)).join('\n');
  return sources()
    .filter((s) => run.test(code(s.text)))
    .map((s) => s.file);
}

describe('enum homes', () => {
  it('the run statuses are listed only in store/types.ts; active and final statuses split them', () => {
    expect(listing(RUN_STATUSES)).toEqual(['src-main/store/types.ts']);
    expect([...ACTIVE_STATUSES, ...FINAL_STATUSES].sort()).toEqual([...RUN_STATUSES].sort());
  });

  it('the backend names are listed only in engine/backend/names.ts', () => {
    expect(listing(['tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu', 'onnx-cpu', 'onnx-webgpu', 'onnx-cuda'])).toEqual(['src-main/engine/backend/names.ts']);
  });
});
