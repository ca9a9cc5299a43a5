/**
 * `modelab run --backend onnx-cpu` as a user runs it: the smoke preset trains its endpoints and evaluates its networks
 * on ONNX Runtime (the rest on wasm), prints a run document whose backend docs/run-json.schema.json accepts, its
 * endpoints and every point of every path reach the same losses as the same run on wasm (float32 tolerance) with the
 * same check verdicts, numpy re-evaluates its exported paths (docs/check_paths.py), and `modelab backends` lists it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Ajv from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../../src-main/engine/experiment/result';
import { type Ran, modelab, root } from '../cli/modelab';

// The document's backend field against its schema (test/cli/cli-smoke.test.ts validates whole documents).
const schema = JSON.parse(readFileSync(path.join(root, 'docs', 'run-json.schema.json'), 'utf8')) as { properties: { backend: object } };
const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
const validateBackend = ajv.compile(schema.properties.backend);

describe('modelab run --preset smoke --backend onnx-cpu', () => {
  let onnx: Ran;
  let wasm: Ran;
  const out = mkdtempSync(path.join(os.tmpdir(), 'modelab-onnx-out-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  beforeAll(async () => {
    // One after the other: two cores are shared by everything else running.
    onnx = await modelab(['run', '--preset', 'smoke', '--json', '--backend', 'onnx-cpu', '--out', out]);
    wasm = await modelab(['run', '--preset', 'smoke', '--json', '--backend', 'wasm']);
  });

  it('prints a run document that records onnx-cpu (a backend the schema knows) and ONNX Runtime', () => {
    expect(onnx.code, onnx.stderr).toBe(0);
    const doc = JSON.parse(onnx.stdout) as RunResult;
    expect(doc.backend).toBe('onnx-cpu');
    expect(validateBackend(doc.backend), ajv.errorsText(validateBackend.errors)).toBe(true);
    expect(doc.device).toMatch(/^ONNX Runtime 1\.\d+\.\d+ CPU/);
  });

  it('trains the endpoints to the wasm run’s weights (same losses within float32 tolerance)', () => {
    expect(wasm.code, wasm.stderr).toBe(0);
    const a = JSON.parse(onnx.stdout) as RunResult;
    const b = JSON.parse(wasm.stdout) as RunResult;
    expect(a.endpoints.length).toBe(b.endpoints.length);
    a.endpoints.forEach((e, k) => {
      const w = b.endpoints[k]!;
      expect(Math.abs(e.train.loss - w.train.loss)).toBeLessThan(1e-4 * Math.max(1, w.train.loss));
      expect(Math.abs(e.test.loss - w.test.loss)).toBeLessThan(1e-4 * Math.max(1, w.test.loss));
    });
  });

  it('evaluates every point of every path to the wasm run’s losses, with the same check verdicts', () => {
    const a = JSON.parse(onnx.stdout) as RunResult;
    const b = JSON.parse(wasm.stdout) as RunResult;
    expect(a.paths.map((p) => p.name)).toEqual(b.paths.map((p) => p.name));
    expect(a.paths.length).toBeGreaterThanOrEqual(2);
    a.paths.forEach((p, k) => {
      const w = b.paths[k]!;
      expect(p.check.pass, p.name).toBe(w.check.pass);
      expect(p.points.map((q) => q.t)).toEqual(w.points.map((q) => q.t));
      p.points.forEach((q, i) => {
        const r = w.points[i]!;
        expect(Math.abs(q.train.loss - r.train.loss), `${p.name} t=${q.t}`).toBeLessThan(1e-4 * Math.max(1, r.train.loss));
        expect(Math.abs(q.test.loss - r.test.loss), `${p.name} t=${q.t}`).toBeLessThan(1e-4 * Math.max(1, r.test.loss));
      });
    });
  });

  it('numpy re-evaluates the exported paths of the onnx-cpu run within 1e-4', () => {
    const python = process.env['MODELAB_PYTHON'] ?? 'python3';
    const check = spawnSync(python, [path.join(root, 'docs/check_paths.py'), out], { encoding: 'utf8' });
    expect(check.status, check.stderr + check.stdout).toBe(0);
    expect(Number(/largest difference: (\S+)/.exec(check.stdout)![1])).toBeLessThanOrEqual(1e-4);
    expect(check.stdout.match(/^ {2}t=/gm)!.length).toBeGreaterThan(60);
  });

  it('modelab backends lists onnx-cpu as available', async () => {
    const r = await modelab(['backends']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^onnx-cpu\s+yes\s*$/m);
  });
});
