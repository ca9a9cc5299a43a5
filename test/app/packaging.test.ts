/**
 * Installers (electron-builder) cannot be built here — that needs Electron's binary, which cannot be downloaded —
 * so the configuration is checked instead: it parses and fits electron-builder's own schema, names the native
 * modules to keep outside the asar archive, and points at the built output, which exists and loads.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  main: string;
  dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  scripts: Record<string, string>;
};
const config = yaml.load(readFileSync(path.join(ROOT, 'electron-builder.yml'), 'utf8')) as Record<string, unknown> & {
  files: string[];
  asarUnpack: string[];
  linux: { target: string[] };
  mac: { target: string[] };
  win: { target: string[] };
  extraMetadata: { main: string };
};

describe('electron-builder configuration', () => {
  it("parses and fits electron-builder's own schema", () => {
    const schema = JSON.parse(readFileSync(path.join(ROOT, 'node_modules/app-builder-lib/scheme.json'), 'utf8')) as object;
    const ajv = new Ajv({ strict: false, allErrors: true });
    const valid = ajv.validate(schema, config);
    expect(ajv.errors ?? [], JSON.stringify(ajv.errors?.slice(0, 3))).toEqual([]);
    expect(valid).toBe(true);
    expect(config['appId']).toBe('org.modelab.desktop');
    expect(config['productName']).toBe('ModeLab');
  });

  it('builds AppImage and deb for Linux, dmg for macOS, nsis for Windows', () => {
    expect(config.linux.target).toEqual(expect.arrayContaining(['AppImage', 'deb']));
    expect(config.mac.target).toContain('dmg');
    expect(config.win.target).toContain('nsis');
  });

  it('keeps the native modules (sqlite3, webgpu, the optional tfjs-node packages) outside the asar archive', () => {
    expect(config['asar']).toBe(true);
    for (const m of ['node_modules/sqlite3/**', 'node_modules/webgpu/**', 'node_modules/@tensorflow/tfjs-node/**', 'node_modules/@tensorflow/tfjs-node-gpu/**', 'resources/**']) {
      expect(config.asarUnpack).toContain(m);
    }
    // Every dependency with a native addon is covered.
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
      const dir = path.join(ROOT, 'node_modules', dep);
      if (!existsSync(dir)) continue;
      const native = existsSync(path.join(dir, 'binding.gyp')) || (existsSync(path.join(dir, 'build')) && readdirSync(path.join(dir, 'build'), { recursive: true }).some((f) => String(f).endsWith('.node')));
      if (native) expect(config.asarUnpack.some((p) => p.startsWith(`node_modules/${dep}/`)), dep).toBe(true);
    }
    expect(config['npmRebuild']).toBe(false);
  });

  it('packs the built output, and package.json main points at the built main process', () => {
    expect(config.files).toEqual(expect.arrayContaining(['out/**', 'resources/**']));
    expect(pkg.main).toBe('out/main/index.cjs');
    expect(config.extraMetadata.main).toBe(pkg.main);
    expect(pkg.scripts['start']).toMatch(/electron-vite preview/);
    for (const f of [pkg.main, 'out/main/worker.cjs', 'out/main/train-worker.cjs', 'out/preload/index.cjs', 'out/renderer/index.html']) {
      expect(existsSync(path.join(ROOT, f)), f).toBe(true);
    }
  });

  it('the built main-process files parse, and the sandboxed preload requires nothing but electron', () => {
    for (const f of readdirSync(path.join(ROOT, 'out/main')).filter((x) => x.endsWith('.cjs'))) {
      const r = spawnSync(process.execPath, ['--check', path.join(ROOT, 'out/main', f)], { encoding: 'utf8' });
      expect(r.status, `${f}: ${r.stderr}`).toBe(0);
    }
    const preload = readFileSync(path.join(ROOT, 'out/preload/index.cjs'), 'utf8');
    const requires = [...preload.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]);
    expect(new Set(requires)).toEqual(new Set(['electron']));
    // The native modules stay external in the main build (loaded from node_modules, unpacked).
    const main = readFileSync(path.join(ROOT, 'out/main/index.cjs'), 'utf8');
    expect(main).toMatch(/require\("sqlite3"\)/);
  });
});
