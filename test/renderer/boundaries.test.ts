/**
 * The renderer runs sandboxed, without Node: src-renderer imports no Node modules, and from src-main only types
 * (`import type`, which the bundler erases) or constants of a module that itself imports nothing at run time (the api's
 * operation list, api/wire-types.ts).
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../src-renderer');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : /\.(ts|vue)$/.test(e.name) ? [path.join(dir, e.name)] : []));
}

describe('renderer boundaries', () => {
  it('has no Node imports, and from src-main only types or import-free modules', () => {
    const offences: string[] = [];
    for (const f of files(SRC)) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
        const [, , isType, spec] = m;
        if (/^node:|^(fs|path|os|child_process|electron|sqlite3|ws)$/.test(spec!)) offences.push(`${path.relative(SRC, f)}: ${spec}`);
        if (spec!.includes('src-main') && !isType) {
          const target = path.resolve(path.dirname(f), `${spec}.ts`);
          const runtimeImports = [...readFileSync(target, 'utf8').matchAll(/^\s*import\s+(?!type\s)[^;]*?['"]([^'"]+)['"]/gm)];
          if (runtimeImports.length) offences.push(`${path.relative(SRC, f)}: runtime import of ${spec}, which imports ${runtimeImports.map((x) => x[1]).join(', ')}`);
        }
      }
      if (/\brequire\(|\bprocess\.|\bBuffer\b|__dirname/.test(text)) offences.push(`${path.relative(SRC, f)}: Node global`);
    }
    expect(offences).toEqual([]);
  });

  it('imports ECharts tree-shaken (echarts/core, charts, components, renderers), never the whole library', () => {
    const all = files(SRC).map((f) => readFileSync(f, 'utf8')).join('\n');
    expect(all).not.toMatch(/from ['"]echarts['"]/);
    expect(all).toMatch(/from 'echarts\/core'/);
    expect(all).toMatch(/SVGRenderer/);
  });

  it('the built renderer bundle has no Node built-ins', () => {
    const dir = path.resolve(SRC, '../out/renderer/assets');
    const js = readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => readFileSync(path.join(dir, f), 'utf8')).join('\n');
    expect(js).not.toMatch(/require\(["']node:|from ?["']node:/);
    expect(js).not.toContain('sqlite3');
  });
});
