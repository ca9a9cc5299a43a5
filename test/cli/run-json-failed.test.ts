/**
 * `modelab run --json` for a run that fails (a diverging training): stdout still carries exactly one document, the
 * run's, with its failed status and reason (fields docs/run-json.schema.json declares); the exit code stays 1.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Ajv from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Ran, modelab, root } from './modelab';

const schema = JSON.parse(readFileSync(path.join(root, 'docs', 'run-json.schema.json'), 'utf8')) as object;
const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
const props = (schema as { properties: Record<string, object> }).properties;
const validateStatus = ajv.compile({ type: 'object', properties: { status: props['status']!, error: props['error']! }, required: ['status', 'error'] });

let tmp = '';
let r: Ran;
beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'modelab-failed-json-'));
  const recipe = {
    name: 'diverges',
    dataset: { name: 'gaussian-mixture', classes: 3, dim: 8, train: 300, test: 150, seed: 0 },
    architecture: { type: 'mlp', hidden: [16, 16] },
    training: { optimizer: 'sgd', lr: 1e6, momentum: 0.9, batchSize: 50, steps: 300 },
    paths: [{ type: 'linear', points: 5 }],
  };
  writeFileSync(path.join(tmp, 'diverges.json'), JSON.stringify(recipe));
  r = await modelab(['run', '--config', path.join(tmp, 'diverges.json'), '--json', '--backend', 'cpu', '--db', path.join(tmp, 'history.sqlite')]);
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('modelab run --json on a run that diverges', () => {
  it('exits 1 with the reason on stderr, and prints the run document with status failed and the reason', () => {
    expect(r.code, r.stderr).toBe(1);
    const reason = /^train A diverged at step \d+: loss (NaN|\+∞|−∞) — lower the learning rate/;
    expect(r.stderr).toMatch(/run [0-9a-z]{16} failed: train A diverged/);
    expect(r.stdout.endsWith('\n')).toBe(true);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
    const doc = JSON.parse(r.stdout) as { status: string; error: string; runId: string; name: string; endpoints: unknown[]; paths: unknown[] };
    expect(doc.status).toBe('failed');
    expect(doc.error).toMatch(reason);
    expect(r.stderr).toContain(`run ${doc.runId} failed: ${doc.error}`);
    expect(doc.name).toBe('diverges');
    expect(doc.paths).toEqual([]);
    // Every field it has is one the schema declares, status and error included (a finished run's requirements —
    // endpoints, evaluation sizes, timings.total — it may not meet: it stopped before them).
    const declared = Object.keys((schema as { properties: object }).properties);
    expect(Object.keys(doc).filter((k) => !declared.includes(k))).toEqual([]);
    expect(validateStatus({ status: doc.status, error: doc.error }) ? '' : ajv.errorsText(validateStatus.errors)).toBe('');
  });
});
