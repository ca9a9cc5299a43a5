/**
 * `modelab run --backend onnx-cpu` as a user runs it: the smoke preset trains its endpoints on ONNX Runtime (the rest
 * on wasm), prints a run document whose backend docs/run-json.schema.json accepts, and its
 * endpoints reach the same loss as the same run on wasm (float32 tolerance); `modelab backends` lists onnx-cpu.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../../src-main/engine/recipe/result';
import { type Ran, modelab, root } from '../cli/modelab';

// The document's backend field against its schema (test/cli/cli-smoke.test.ts validates whole documents).
const schema = JSON.parse(readFileSync(path.join(root, 'docs', 'run-json.schema.json'), 'utf8')) as { properties: { backend: object } };
const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
const validateBackend = ajv.compile(schema.properties.backend);

describe('modelab run --preset smoke --backend onnx-cpu', () => {
  let onnx: Ran;
  let wasm: Ran;
  beforeAll(async () => {
    // One after the other: two cores are shared by everything else running.
    onnx = await modelab(['run', '--preset', 'smoke', '--json', '--backend', 'onnx-cpu']);
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

  it('modelab backends lists onnx-cpu as available', async () => {
    const r = await modelab(['backends']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^onnx-cpu\s+yes\s*$/m);
  });
});
