/**
 * The main side (Node: engine, store, jobs, api, server, CLI, Electron main) type-checks without the DOM's types, so a
 * `document` or `window` there is a compile error, not a crash at run time. Only the tests that run renderer code or
 * script a page are checked with the DOM (tsconfig.dom-tests.json); the renderer has its own (src-renderer/tsconfig.json).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const config = (name: string): { compilerOptions?: { lib?: string[] }; include?: string[]; exclude?: string[] } =>
  JSON.parse(readFileSync(path.join(root, name), 'utf8')) as never;

describe('TypeScript sides', () => {
  it('the main side has no DOM library; the DOM-typed tests are exactly the ones it leaves out', () => {
    const main = config('tsconfig.json');
    expect(main.compilerOptions?.lib?.map((l) => l.toLowerCase()).filter((l) => l.startsWith('dom'))).toEqual([]);
    expect(main.include).toEqual(expect.arrayContaining(['src-main/**/*.ts', 'test/**/*.ts']));
    const dom = config('tsconfig.dom-tests.json');
    expect(dom.compilerOptions?.lib).toContain('DOM');
    expect(main.exclude?.map((p) => `${p}/*.ts`).sort()).toEqual([...(dom.include ?? [])].sort());
  });

  it('npm run typecheck checks both', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['typecheck']).toContain('-p tsconfig.json');
    expect(pkg.scripts['typecheck']).toContain('-p tsconfig.dom-tests.json');
  });
});
