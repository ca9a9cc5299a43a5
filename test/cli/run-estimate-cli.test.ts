/**
 * The resource check and `modelab run --dry-run` as a user meets them (issue 12 item 4, issue 13's time estimate):
 * a recipe that cannot fit this machine, or asks for absurd numbers, is refused before anything is stored — exit 2,
 * one line that says how much memory it would need — whether the run is stored or not; `--dry-run` prints memory and
 * time from the stored bench figures (a fixture here: the real bench takes minutes), starts and stores nothing, and
 * without figures says how to get them and never runs the bench by itself.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { datasetShape } from '../../src-main/engine/data/shape';
import { latestBench } from '../../src-main/engine/bench/stored';
import { estimateTime } from '../../src-main/engine/recipe/estimate';
import { loadPreset } from '../../src-main/engine/recipe/presets';
import type { Recipe } from '../../src-main/engine/recipe/schema';
import { type Ran, bin, modelab, root } from './modelab';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'modelab-estimate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const fixtureBench = path.join(root, 'test', 'fixtures', 'bench');

/** A fresh MODELAB_HOME (optionally with the fixture bench figures), set for the commands that follow. */
function home(withBench: boolean): string {
  const h = mkdtempSync(path.join(tmp, 'home-'));
  if (withBench) cpSync(fixtureBench, path.join(h, 'bench'), { recursive: true });
  process.env['MODELAB_HOME'] = h;
  return h;
}

function config(name: string, over: (r: Record<string, any>) => void): string {
  const doc: Record<string, any> = {
    name,
    dataset: { name: 'gaussian-mixture', classes: 4, dim: 16, train: 2000, test: 1000 },
    architecture: { type: 'mlp', hidden: [32] },
    training: { lr: 0.05, batchSize: 64, epochs: 2 },
    paths: [{ type: 'linear', points: 61 }],
  };
  over(doc);
  const file = path.join(tmp, `${name}.json`);
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

function expectOneLine(r: Ran, ...wants: RegExp[]): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(/^modelab: /);
  for (const w of wants) expect(r.stderr).toMatch(w);
}

const NEEDS = /this recipe needs about [0-9.]+ (GB|TB) of memory \(.*\); this machine has [0-9.]+ GB$/m;

const refused: [string, (r: Record<string, any>) => void, RegExp][] = [
  ['hidden-1e9', (r) => (r['architecture'].hidden = [1e9]), NEEDS],
  ['train-1e10', (r) => (r['dataset'].train = 1e10), NEEDS],
  ['dim-1e8', (r) => (r['dataset'].dim = 1e8), NEEDS],
  ['points-1e9', (r) => (r['paths'][0].points = 1e9), NEEDS],
  ['epochs-1e12', (r) => (r['training'].epochs = 1e12), /training\.epochs: .*10000/],
];

describe('a recipe that cannot fit or asks for absurd numbers', () => {
  it.each(refused)('%s is refused in one line and nothing is stored', async (name, over, want) => {
    home(false);
    const file = config(name, over);
    expectOneLine(await modelab(['run', '--config', file]), want);
    const list = await modelab(['list', '--json']);
    expect(JSON.parse(list.stdout).total).toBe(0);
    expectOneLine(await modelab(['run', '--config', file, '--no-store']), want);
    expectOneLine(await modelab(['run', '--config', file, '--dry-run']), want);
  }, 60_000);
});

describe('modelab run --dry-run', () => {
  it('prints memory and time per stage from the stored bench figures, and starts and stores nothing', async () => {
    const h = home(true);
    // The fixture was measured on wasm: asked for by name, so that a test run forcing another default
    // (MODELAB_BACKEND) estimates from it too.
    const r = await modelab(['run', '--preset', 'mnist-mlp', '--dry-run', '--backend', 'wasm']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^mnist-mlp: nothing started or stored \(--dry-run\)/);
    expect(r.stdout).toMatch(/^memory: about [0-9.]+ GB of this machine's [0-9.]+ GB$/m);
    expect(r.stdout).toMatch(/^ {2}parameters +[0-9.]+ MB {2}669,706 per network/m);
    expect(r.stdout).toMatch(/^work: train A 1,876 steps, train B 1,876 steps; 61 path points × 20,000 samples/m);
    // The fixture's MLP rate (10.8 GFLOP/s): 1,876 steps × 128 samples × 6 × 669,706 MACs ≈ 89 s per endpoint.
    expect(r.stdout).toMatch(/^time: about 2 min on wasm \(bench --quick of 2026-11-01 12:00 UTC/m);
    expect(r.stdout).toMatch(/^ {2}train A +89 s {2}1876 steps × 128 samples at 10\.8 GFLOP\/s/m);
    expect(r.stdout).toMatch(/^ {2}linear +57 s {2}61 points \(40\.2 full passes\) × 20000 samples/m);
    expect(existsSync(path.join(h, 'history.sqlite'))).toBe(false);
    expect(readdirSync(path.join(h, 'bench'))).toHaveLength(1);
  });

  it('--json prints one estimate document agreeing with the engine', async () => {
    const h = home(true);
    const r = await modelab(['run', '--preset', 'mnist-mlp', '--dry-run', '--json', '--backend', 'wasm']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.schema).toBe('modelab.estimate/1');
    expect(doc.recipe).toBe('mnist-mlp');
    expect(doc.machine).toEqual({ memoryBytes: os.totalmem(), cores: os.availableParallelism() });
    expect(doc.resources.memory.parameters).toBe(669_706);
    expect(doc.resources.refusal).toBeNull();
    expect(doc.resources.trainingSteps).toEqual({ A: 1876, B: 1876 });
    const recipe = loadPreset('mnist-mlp') as Recipe;
    const want = estimateTime(recipe, datasetShape(recipe.dataset)!, latestBench(path.join(h, 'bench'))!, os.availableParallelism());
    expect(doc.time).toEqual(JSON.parse(JSON.stringify(want)));
    expect(doc.notes).toEqual([]);
    expect(existsSync(path.join(h, 'history.sqlite'))).toBe(false);
  });

  it("estimates from the figures of the backend the run gets (MODELAB_BACKEND's when set), never another's, and says in one line when there are none", async () => {
    home(true); // the fixture: one wasm bench
    const other = await modelab(['run', '--preset', 'mnist-mlp', '--dry-run', '--json', '--backend', 'onnx-cpu']);
    expect(other.code, other.stderr).toBe(0);
    const doc = JSON.parse(other.stdout);
    expect(doc.time).toBeNull();
    expect(doc.notes).toEqual(['no timing figures yet for onnx-cpu, the backend this run gets']);
    // MODELAB_BACKEND is the default a run without --backend gets, and so the figures its estimate reads.
    const was = process.env['MODELAB_BACKEND'];
    try {
      for (const [env, want] of [['wasm', /^time: about 2 min on wasm /m], ['onnx-cpu', /^time: no timing figures yet for onnx-cpu, the backend this run gets — /m]] as const) {
        process.env['MODELAB_BACKEND'] = env;
        const r = await modelab(['run', '--preset', 'mnist-mlp', '--dry-run']);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toMatch(want);
      }
    } finally {
      if (was === undefined) delete process.env['MODELAB_BACKEND'];
      else process.env['MODELAB_BACKEND'] = was;
    }
  });

  it('without bench figures says how to get them and runs no bench', async () => {
    const h = home(false);
    const r = await modelab(['run', '--preset', 'smoke', '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^time: no timing figures yet for [a-z-]+, the backend this run gets — run `modelab bench --quick` \(about 1½ minutes\)/m);
    expect(r.stdout).toMatch(/^memory: about/m);
    const json = JSON.parse((await modelab(['run', '--preset', 'smoke', '--dry-run', '--json'])).stdout);
    expect(json.time).toBeNull();
    expect(json.notes).toEqual([expect.stringMatching(/^no timing figures yet for [a-z-]+, the backend this run gets$/)]);
    expect(existsSync(path.join(h, 'bench'))).toBe(false);
  });

  it('on a terminal asks before benchmarking, and a no runs nothing', async () => {
    const h = home(false);
    // `script` (util-linux) gives the command a terminal; the answer comes on its stdin.
    const ran = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = execFile('script', ['-qec', `"${process.execPath}" "${bin}" run --preset smoke --dry-run`, '/dev/null'], { cwd: root, timeout: 60_000 }, (err, stdout) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, out: stdout }),
      );
      child.stdin!.end('n\n');
    });
    expect(ran.code, ran.out).toBe(0);
    expect(ran.out).toContain('no timing figures yet on this machine. Run the quick benchmark now (about 1½ minutes)? [y/N]');
    expect(ran.out).toMatch(/smoke: nothing started or stored \(--dry-run\)/);
    expect(ran.out).toMatch(/time: no timing figures yet for [a-z-]+, the backend this run gets — run `modelab bench --quick`/);
    expect(existsSync(path.join(h, 'bench'))).toBe(false);
  }, 60_000);

  it('a bench figure for another backend is not used when a backend is asked for', async () => {
    home(true);
    const r = JSON.parse((await modelab(['run', '--preset', 'smoke', '--dry-run', '--json', '--backend', 'cpu'])).stdout);
    expect(r.time).toBeNull();
    const w = JSON.parse((await modelab(['run', '--preset', 'smoke', '--dry-run', '--json', '--backend', 'wasm'])).stdout);
    expect(w.time.bench.backend).toBe('wasm');
  });
});
