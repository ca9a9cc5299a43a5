/**
 * The real CLI, run as a user would (`node bin/modelab.mjs …` from the repository root): a smoke run printing one
 * JSON document that validates against docs/run-json.schema.json, the files written by --out, and the exit codes and
 * one-line messages of bad input.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Ajv from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/backends';
import { featureCount } from '../../src-main/engine/data/dataset';
import { loadDataset } from '../../src-main/engine/data/load';
import { DeviceSplit, evaluate } from '../../src-main/engine/eval/evaluate';
import { readSafetensors } from '../../src-main/engine/io/safetensors';
import { type HostParams, checkParams, disposeParams, toDevice } from '../../src-main/engine/nn/params';
import { paramShapes } from '../../src-main/engine/nn/spec';
import { parseRecipe, resolveArchitecture } from '../../src-main/engine/recipe/resolve';
import type { RunResult } from '../../src-main/engine/experiment/result';
import { type Ran, modelab, root } from './modelab';

/** Exit code 2 and exactly one line on stderr, starting with "modelab: ". */
function expectInputError(r: Ran, ...wants: RegExp[]): void {
  expect(r.code, `stderr: ${r.stderr}`).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.endsWith('\n')).toBe(true);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr.startsWith('modelab: ')).toBe(true);
  expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
  for (const w of wants) expect(r.stderr).toMatch(w);
}

const schema = JSON.parse(readFileSync(path.join(root, 'docs', 'run-json.schema.json'), 'utf8')) as object;
const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
const validate = ajv.compile(schema);
const schemaErrors = (doc: unknown): string => (validate(doc) ? '' : ajv.errorsText(validate.errors, { separator: '\n' }));

describe('modelab run --preset smoke --json --backend wasm', () => {
  let tmp = '';
  let outDir = '';
  let plain: Ran;
  let withOut: Ran;
  let doc: RunResult;

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'modelab-cli-'));
    outDir = path.join(tmp, 'out', 'nested');
    [plain, withOut] = await Promise.all([
      modelab(['run', '--preset', 'smoke', '--json', '--backend', 'wasm']),
      modelab(['run', '--preset', 'smoke', '--json', '--backend', 'wasm', '--out', outDir]),
    ]);
    try {
      doc = JSON.parse(plain.stdout) as RunResult;
    } catch {
      // reported by the first test, with the run's stderr
    }
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('exits 0 and prints exactly one JSON document on stdout (progress goes to stderr)', () => {
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout.endsWith('\n')).toBe(true);
    expect(plain.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(() => JSON.parse(plain.stdout)).not.toThrow();
    expect(plain.stderr).toMatch(/train A/);
  });

  it('the document validates against docs/run-json.schema.json', () => {
    expect(schemaErrors(doc)).toBe('');
  });

  it('the schema is not vacuous: it rejects broken documents', () => {
    const broken: [string, (d: Record<string, unknown>) => void][] = [
      ['missing field', (d) => delete d['endpoints']],
      ['unknown field', (d) => (d['extra'] = 1)],
      ['wrong schema id', (d) => (d['schema'] = 'modelab.run/2')],
      ['unknown backend', (d) => (d['backend'] = 'gpu')],
      ['accuracy above 1', (d) => ((d['endpoints'] as { test: { acc: number } }[])[0]!.test.acc = 1.5)],
      ['barrier metric missing', (d) => delete (d['paths'] as { barrier: { train: Record<string, unknown> } }[])[0]!.barrier.train['maxLoss']],
      ['bad layer', (d) => ((d['architecture'] as { spec: { layers: unknown[] } }).spec.layers[0] = { type: 'dense', units: 0, bias: false, dropout: 0 })],
      ['bad timestamp', (d) => (d['startedAt'] = 'yesterday')],
      ['epochs and steps in config', (d) => ((d['config'] as { training: Record<string, unknown> }).training['steps'] = 3)],
      ['loss of the wrong type', (d) => ((d['endpoints'] as { test: { loss: unknown } }[])[0]!.test.loss = '0.5')],
      ['construction of the wrong kind', (d) => ((d['paths'] as { construction: unknown }[])[0]!.construction = { keepFraction: 0.5 })],
      ['construction field of the wrong type', (d) => ((d['paths'] as { construction: { renormalize: unknown } }[])[0]!.construction.renormalize = 'sometimes')],
      ['theorem1 without its kept sets', (d) => delete (d['paths'] as { construction: Record<string, unknown> }[])[1]!.construction['kept']],
      ['unknown check state', (d) => ((d['paths'] as { check: { state: unknown } }[])[0]!.check.state = 'maybe')],
    ];
    for (const [what, mutate] of broken) {
      const d = JSON.parse(plain.stdout) as Record<string, unknown>;
      mutate(d);
      expect(validate(d), what).toBe(false);
    }
    // A measured number that was not finite is written as null (JSON.stringify), and the schema admits it.
    const diverged = JSON.parse(plain.stdout) as { endpoints: { train: { loss: number | null } }[] };
    diverged.endpoints[0]!.train.loss = null;
    expect(schemaErrors(diverged)).toBe('');
  });

  it('records what ran: schema id, preset, backend, the smoke recipe, its architecture and data', () => {
    expect(doc.schema).toBe('modelab.run/1');
    expect(doc.preset).toBe('smoke');
    expect(doc.name).toBe('smoke');
    expect(doc.backend).toBe('wasm');
    expect(Date.parse(doc.finishedAt)).toBeGreaterThanOrEqual(Date.parse(doc.startedAt));
    // Smoke: MLP 16-64-64-4 without bias → 16·64 + 64·64 + 64·4 parameters.
    expect(doc.architecture.parameters).toBe(16 * 64 + 64 * 64 + 64 * 4);
    expect(doc.dataset).toMatchObject({ name: 'gaussian-mixture', classes: 4, trainSize: 2000, testSize: 1000, evalTrainSize: 2000, evalTestSize: 1000 });
    expect(doc.endpoints.map((e) => e.name)).toEqual(['A', 'B']);
    // 20 epochs of 2000 samples in batches of 64: 32 steps per epoch.
    for (const e of doc.endpoints) {
      expect(e.training.steps).toBe(20 * 32);
      expect(e.training.samples).toBe(20 * 2000);
      expect(e.test.acc).toBeGreaterThan(0.8);
      expect(Number.isFinite(e.train.loss)).toBe(true);
    }
    const p = doc.paths.find((q) => q.kind === 'linear')!;
    expect(p.name).toBe('linear');
    expect(p.segments).toEqual([{ from: 0, to: 1, kind: 'line' }]);
    expect(p.points).toHaveLength(61);
    expect(p.points[0]!.train).toEqual(doc.endpoints[0]!.train);
    expect(p.points[60]!.test).toEqual(doc.endpoints[1]!.test);
    for (const split of ['train', 'test'] as const) for (const v of Object.values(p.barrier[split])) expect(Number.isFinite(v.value)).toBe(true);
    expect(Object.keys(doc.timings)).toEqual(expect.arrayContaining(['data', 'train:A', 'train:B', 'eval:endpoints', 'path:linear', 'total']));
    // The smoke preset also builds the Theorem 1 path: 8d − 4 segments for d = 3 layers, 4 points per segment + 1.
    const th = doc.paths.find((q) => q.kind === 'theorem1');
    if (th) {
      expect(th.segments).toHaveLength(8 * 3 - 4);
      expect(th.points).toHaveLength(4 * th.segments.length + 1);
      expect(th.points[0]!.train).toEqual(doc.endpoints[0]!.train);
      expect(th.points.at(-1)!.test).toEqual(doc.endpoints[1]!.test);
      expect(th.check.endpoints).toEqual({ startsAtA: true, endsAtB: true });
    }
  });

  it('--out DIR writes DIR/run.json (the same document) and DIR/endpoints.safetensors', () => {
    expect(withOut.code, withOut.stderr).toBe(0);
    const runJson = path.join(outDir, 'run.json');
    const st = path.join(outDir, 'endpoints.safetensors');
    expect(existsSync(runJson)).toBe(true);
    expect(existsSync(st)).toBe(true);
    const written = JSON.parse(readFileSync(runJson, 'utf8')) as RunResult;
    expect(written).toEqual(JSON.parse(withOut.stdout));
    expect(schemaErrors(written)).toBe('');
    // Same seed, same backend, separate processes: the same networks and the same measurements.
    expect(written.endpoints.map((e) => [e.seed, e.train, e.test, e.training.curve])).toEqual(doc.endpoints.map((e) => [e.seed, e.train, e.test, e.training.curve]));
    expect(written.paths[0]!.points).toEqual(doc.paths[0]!.points);
  });

  it('the safetensors file holds A.A1.w … B.A3.w in the documented [in, out] layout, and they are the evaluated networks', async () => {
    const { tensors, metadata } = readSafetensors(path.join(outDir, 'endpoints.safetensors'));
    expect(Object.keys(tensors).sort()).toEqual(['A.A1.w', 'A.A2.w', 'A.A3.w', 'B.A1.w', 'B.A2.w', 'B.A3.w']);
    expect(tensors['A.A1.w']!.shape).toEqual([16, 64]);
    expect(tensors['A.A2.w']!.shape).toEqual([64, 64]);
    expect(tensors['A.A3.w']!.shape).toEqual([64, 4]);
    expect(metadata['layout']).toMatch(/dense.*\[in, ?out\]/);
    // Evaluate the exported weights here and compare with the metrics in the document.
    await selectBackend('wasm');
    const written = JSON.parse(readFileSync(path.join(outDir, 'run.json'), 'utf8')) as RunResult;
    const recipe = parseRecipe(written.config);
    const data = loadDataset(recipe.dataset);
    const spec = resolveArchitecture(recipe.architecture, data.inputShape, data.classes);
    expect(spec).toEqual(written.architecture.spec);
    const test = new DeviceSplit(data.test, featureCount(data), recipe.evaluation.batchSize);
    try {
      for (const e of written.endpoints) {
        const p: HostParams = {};
        for (const s of paramShapes(spec)) p[s.name] = tensors[`${e.name}.${s.name}`]!;
        checkParams(spec, p);
        const dev = toDevice(p);
        const m = await evaluate(spec, dev, test);
        disposeParams(dev);
        expect(m.acc).toBe(e.test.acc);
        expect(m.loss).toBeCloseTo(e.test.loss, 6);
      }
    } finally {
      test.dispose();
    }
  });

  it('--out also writes the exact evaluation data and every path\'s vertices, starting and ending at the endpoints', () => {
    const written = JSON.parse(readFileSync(path.join(outDir, 'run.json'), 'utf8')) as RunResult;
    const ends = readSafetensors(path.join(outDir, 'endpoints.safetensors')).tensors;
    const evalData = path.join(outDir, 'eval-data.safetensors');
    expect(existsSync(evalData)).toBe(true);
    const ev = readSafetensors(evalData).tensors;
    const data = loadDataset(parseRecipe(written.config).dataset);
    // The smoke recipe evaluates on the whole sets (trainSamples and testSamples null).
    expect(ev['train.x']!.shape).toEqual([2000, 1, 1, 16]);
    expect(ev['test.y']!.shape).toEqual([1000]);
    expect(Buffer.from(ev['train.x']!.data.buffer).equals(Buffer.from(data.train.x.buffer))).toBe(true);
    expect(Array.from(ev['test.y']!.data)).toEqual(Array.from(data.test.y));
    for (const p of written.paths) {
      const st = path.join(outDir, 'paths', `${p.name}.safetensors`);
      expect(existsSync(st), st).toBe(true);
      expect(existsSync(path.join(outDir, 'paths', `${p.name}.json`))).toBe(true);
      const v = readSafetensors(st).tensors;
      const last = p.segments.length; // vertices are 0 … number of segments for these chain paths
      for (const k of ['A1.w', 'A2.w', 'A3.w']) {
        expect(Buffer.from(v[`v0.${k}`]!.data.buffer).equals(Buffer.from(ends[`${p.from}.${k}`]!.data.buffer)), `${p.name} v0.${k}`).toBe(true);
        expect(Buffer.from(v[`v${last}.${k}`]!.data.buffer).equals(Buffer.from(ends[`${p.to}.${k}`]!.data.buffer)), `${p.name} v${last}.${k}`).toBe(true);
      }
    }
  });
});

describe('modelab run --preset counterexample --json', () => {
  it('exits 0 with one JSON document that validates against the same schema', async () => {
    const r = await modelab(['run', '--preset', 'counterexample', '--json', '--backend', 'cpu']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
    const d = JSON.parse(r.stdout) as RunResult;
    expect(schemaErrors(d)).toBe('');
    expect(d.preset).toBe('counterexample');
    // The two endpoints are exact global minimizers: zero loss.
    expect(d.endpoints.map((e) => e.train.loss)).toEqual([0, 0]);
    for (const p of d.paths) expect(p.points[0]!.train.loss).toBe(0);
  });
});

describe('bad input: exit code 2 and a one-line message', () => {
  let tmp = '';
  beforeAll(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'modelab-cli-bad-'));
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('--preset nope names the presets that exist', async () => {
    expectInputError(await modelab(['run', '--preset', 'nope']), /unknown preset 'nope'/, /smoke/);
  });

  it('--backend nope names the known backends', async () => {
    expectInputError(await modelab(['run', '--preset', 'smoke', '--backend', 'nope']), /unknown backend 'nope'/, /wasm/, /cpu/);
  });

  it('--backend webgpu, unavailable here, names the backends that are available', async () => {
    const table = await modelab(['backends']);
    expect(table.code).toBe(0);
    const rows = table.stdout.split('\n').map((l) => l.trim().split(/\s+/));
    const available = rows.filter((r) => r[1] === 'yes').map((r) => r[0]!);
    expect(available).toContain('wasm');
    expect(available).toContain('cpu');
    // webgpu needs a GPU adapter (none on the development machine). Where one exists, another backend that is not
    // available stands in: tensorflow and tensorflow-gpu exclude each other, so one of them always is.
    const missing = ['webgpu', 'tensorflow-gpu', 'tensorflow'].find((n) => rows.find((r) => r[0] === n)?.[1] === 'no');
    expect(missing).toBeDefined();
    const r = await modelab(['run', '--preset', 'smoke', '--backend', missing!]);
    expectInputError(r, new RegExp(`backend '${missing}' is not available`));
    const listed = /available: (.*)$/.exec(r.stderr.trimEnd())?.[1]?.split(', ');
    expect(listed).toEqual(available);
  });

  it('an unknown option', async () => {
    expectInputError(await modelab(['run', '--preset', 'smoke', '--bogus']), /--bogus/);
  });

  it('a --config file that is not JSON names the file', async () => {
    const f = path.join(tmp, 'broken.json');
    writeFileSync(f, '{ "name": "x",');
    expectInputError(await modelab(['run', '--config', f]), /broken\.json is not valid JSON/);
  });

  it('a --config file with a schema error names the file and the field', async () => {
    const doc = JSON.parse(readFileSync(path.join(root, 'resources', 'presets', 'smoke.json'), 'utf8')) as { training: Record<string, unknown> };
    doc.training['lr'] = -1;
    const f = path.join(tmp, 'negative-lr.json');
    writeFileSync(f, JSON.stringify(doc));
    expectInputError(await modelab(['run', '--config', f]), /negative-lr\.json: training\.lr/);
  });

  it('other misuse: no recipe, a bad --seed, an unknown command', async () => {
    const runs = await Promise.all([modelab(['run']), modelab(['run', '--preset', 'smoke', '--seed', 'abc']), modelab(['frobnicate'])]);
    expectInputError(runs[0]!, /exactly one of --preset/);
    expectInputError(runs[1]!, /--seed/);
    expectInputError(runs[2]!, /unknown command 'frobnicate'/);
  });
});

describe('help', () => {
  it('--help and run --help exit 0 with usage on stdout', async () => {
    const [top, runHelp] = await Promise.all([modelab(['--help']), modelab(['run', '--help'])]);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/Usage: modelab <command>/);
    expect(top.stderr).toBe('');
    expect(runHelp.code).toBe(0);
    expect(runHelp.stdout).toMatch(/Usage: modelab run/);
    expect(runHelp.stdout).toMatch(/--out DIR/);
    expect(runHelp.stdout).toMatch(/--json/);
  });
});
