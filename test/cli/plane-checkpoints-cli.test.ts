/**
 * The loss plane and training checkpoints from the command line: `modelab run --out DIR` writes every checkpoint to
 * DIR/checkpoints (stored or not); a stored run keeps its plane and the latest checkpoint of each endpoint through
 * show --json and the bundle round trip (export → delete → import → export: identical files); a run killed with
 * kill -9 mid-training keeps its last checkpoint, which show lists and a bundle carries.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListResult, RunDetail } from '../../src-main/api/contract';
import { readCheckpointInfo } from '../../src-main/engine/experiment/export';
import { decodeSafetensors } from '../../src-main/engine/io/safetensors';
import type { RunResult } from '../../src-main/engine/experiment/result';
import type { StoredRunDocument } from '../../src-main/store/bundle';
import { HistoryStore, pidAlive } from '../../src-main/store/history';
import { longCheckpointRecipe, planeRecipe } from '../jobs/recipes';
import { bin, modelab, root } from './modelab';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Every file under dir, relative, sorted. */
function files(dir: string, base = dir): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const p = path.join(dir, f);
      return statSync(p).isDirectory() ? files(p, base) : [path.relative(base, p)];
    });
}

let tmp = '';
let db = '';
let cfg = '';
let out = '';
let doc: StoredRunDocument;
let id = '';
beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'modelab-plane-cli-'));
  db = path.join(tmp, 'lab', 'history.sqlite');
  cfg = path.join(tmp, 'plane.json');
  out = path.join(tmp, 'out');
  writeFileSync(cfg, JSON.stringify(planeRecipe()));
  const r = await modelab(['run', '--config', cfg, '--backend', 'wasm', '--json', '--out', out, '--db', db]);
  expect(r.code, r.stderr).toBe(0);
  doc = JSON.parse(r.stdout) as StoredRunDocument;
  id = doc.runId;
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const showJson = async (ref: string): Promise<{ raw: string; d: RunDetail }> => {
  const r = await modelab(['show', ref, '--json', '--db', db]);
  expect(r.code, r.stderr).toBe(0);
  return { raw: r.stdout, d: JSON.parse(r.stdout) as RunDetail };
};

describe('modelab run --out with checkpointEvery', () => {
  it('writes every checkpoint: DIR/checkpoints/<endpoint>-epoch<e>.safetensors, endpoint tensor names without the prefix', () => {
    expect(readdirSync(path.join(out, 'checkpoints'))).toEqual(['A-epoch1.safetensors', 'A-epoch2.safetensors', 'B-epoch1.safetensors', 'B-epoch2.safetensors']);
    const endpoints = decodeSafetensors(readFileSync(path.join(out, 'endpoints.safetensors'))).tensors;
    for (const ep of ['A', 'B']) {
      const names = Object.keys(endpoints).filter((k) => k.startsWith(`${ep}.`)).map((k) => k.slice(ep.length + 1));
      for (const e of [1, 2]) {
        const buf = readFileSync(path.join(out, 'checkpoints', `${ep}-epoch${e}.safetensors`));
        const { tensors, metadata } = decodeSafetensors(buf);
        expect(Object.keys(tensors)).toEqual(names);
        for (const n of names) expect(tensors[n]!.shape).toEqual(endpoints[`${ep}.${n}`]!.shape);
        expect(metadata).toMatchObject({ format: 'modelab-checkpoint', endpoint: ep, epoch: String(e), step: String(6 * e) });
      }
    }
    // The epoch-2 weights are not the final ones (one more epoch of training).
    const a2 = decodeSafetensors(readFileSync(path.join(out, 'checkpoints', 'A-epoch2.safetensors'))).tensors['A1.w']!.data;
    expect(Array.from(a2)).not.toEqual(Array.from(endpoints['A.A1.w']!.data));
  });

  it('--no-store writes the same files (same seeds, same backend)', async () => {
    const ns = path.join(tmp, 'nostore');
    const r = await modelab(['run', '--config', cfg, '--backend', 'wasm', '--no-store', '--out', ns, '--db', path.join(tmp, 'unused.sqlite')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote .*: run\.json, endpoints\.safetensors, eval-data\.safetensors, paths\/, checkpoints\//);
    expect(readdirSync(path.join(ns, 'checkpoints'))).toEqual(readdirSync(path.join(out, 'checkpoints')));
    for (const f of readdirSync(path.join(ns, 'checkpoints'))) {
      expect(readFileSync(path.join(ns, 'checkpoints', f)).equals(readFileSync(path.join(out, 'checkpoints', f))), f).toBe(true);
    }
    expect((JSON.parse(readFileSync(path.join(ns, 'run.json'), 'utf8')) as RunResult).plane!.grid).toEqual(doc.plane!.grid);
  });
});

describe('a stored run with a plane and checkpoints', () => {
  it('show --json holds the plane of the run document and the latest checkpoint of each endpoint; show lists them', async () => {
    expect(doc.plane).toBeDefined();
    expect(doc.plane!.grid.size).toBe(5);
    expect((JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8')) as RunResult).plane).toEqual(doc.plane);
    const { d } = await showJson(id);
    expect(d.plane).toEqual(doc.plane);
    expect(d.checkpoints).toEqual([
      { endpoint: 'A', epoch: 2, step: 12 },
      { endpoint: 'B', epoch: 2, step: 12 },
    ]);
    expect(d.artifacts.filter((a) => a.role.startsWith('checkpoint:')).map((a) => a.role)).toEqual(['checkpoint:A', 'checkpoint:B']);
    const text = await modelab(['show', id, '--db', db]);
    expect(text.stdout).toContain('checkpoints (latest of each endpoint): A epoch 2 (step 12), B epoch 2 (step 12)');
    expect(text.stdout).toMatch(/loss plane through θ_A, θ_B, π\(θ_B\)/);
  });

  it('bundle → delete → import: the same plane and checkpoints, and identical files on export', async () => {
    const zip = path.join(tmp, 'bundle.zip');
    const dir = path.join(tmp, 'bundle');
    expect((await modelab(['export', id, '--format', 'bundle', '--out', zip, '--db', db])).code).toBe(0);
    expect((await modelab(['export', id, '--format', 'bundle', '--out', dir, '--db', db])).code).toBe(0);
    expect(readdirSync(path.join(dir, 'checkpoints'))).toEqual(['A-epoch2.safetensors', 'B-epoch2.safetensors']);
    for (const f of readdirSync(path.join(dir, 'checkpoints'))) {
      expect(readFileSync(path.join(dir, 'checkpoints', f)).equals(readFileSync(path.join(out, 'checkpoints', f))), f).toBe(true);
    }
    expect((JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8')) as StoredRunDocument).plane).toEqual(doc.plane);
    // `run --out` wrote the same bundle (plus the earlier checkpoints, which its manifest lists too).
    for (const f of files(dir).filter((f) => f !== 'manifest.sha256')) expect(readFileSync(path.join(out, f)).equals(readFileSync(path.join(dir, f))), f).toBe(true);
    const listed = readFileSync(path.join(out, 'manifest.sha256'), 'utf8').trimEnd().split('\n').map((l) => l.slice(66));
    expect(listed).toEqual(files(out).filter((f) => f !== 'manifest.sha256').map((f) => f.split(path.sep).join('/')));

    const before = await showJson(id);
    const del = await modelab(['delete', id, '--yes', '--db', db]);
    expect(del.stdout).toMatch(/deleted 1 run \(7 artifact files removed\)/); // 2 endpoints, 2 checkpoints, 2 paths, the evaluation data
    const imp = await modelab(['import', zip, '--db', db]);
    expect(imp.code, imp.stderr).toBe(0);
    expect(imp.stdout.trim()).toBe(id);
    const after = await showJson(id);
    expect(after.raw).toBe(before.raw);

    const dir2 = path.join(tmp, 'bundle-again');
    expect((await modelab(['export', id, '--format', 'bundle', '--out', dir2, '--db', db])).code).toBe(0);
    expect(files(dir2)).toEqual(files(dir));
    for (const f of files(dir)) expect(readFileSync(path.join(dir2, f)).equals(readFileSync(path.join(dir, f))), f).toBe(true);

    // The `run --out` folder imports too (as a copy: the run is there), with the latest of its checkpoints.
    const copy = await modelab(['import', out, '--as-copy', '--db', db]);
    expect(copy.code, copy.stderr).toBe(0);
    const c = await showJson(copy.stdout.trim());
    expect(c.d.name).toBe(`${after.d.name} (copy)`);
    expect({ ...c.d, id, name: after.d.name }).toEqual(after.d);
  });
});

describe('kill -9 mid-training', () => {
  it('of the CLI and its job process: the run is found crashed, with its last checkpoint in the store, listed and exported', async () => {
    const long = path.join(tmp, 'long.json');
    const out2 = path.join(tmp, 'killed-out');
    writeFileSync(long, JSON.stringify(longCheckpointRecipe('killed')));
    const cli = spawn(process.execPath, [bin, 'run', '--config', long, '--backend', 'wasm', '--db', db, '--tag', 'killed', '--out', out2], { cwd: root, stdio: 'ignore' });
    const store = await HistoryStore.open({ db });
    let runId = '';
    let workerPid = 0;
    try {
      for (let k = 0; ; k++) {
        if (k > 600) throw new Error('no second checkpoint from the job');
        await sleep(100);
        const r = (await store.list({ tags: ['killed'] })).runs[0];
        if (!r || !r.pid) continue;
        const d = await store.get(r.id);
        if ((d.checkpoints[0]?.epoch ?? 0) >= 2) {
          runId = r.id;
          workerPid = r.pid;
          break;
        }
      }
      process.kill(cli.pid!, 'SIGKILL');
      process.kill(workerPid, 'SIGKILL');
      for (let k = 0; pidAlive(workerPid) && k < 100; k++) await sleep(100);
      expect(pidAlive(workerPid)).toBe(false);
      const s = await store.summary(runId);
      const wait = Date.parse(s.heartbeatAt!) + 6500 - Date.now();
      if (wait > 0) await sleep(wait);

      const list = await modelab(['list', '--json', '--tag', 'killed', '--db', db]);
      expect((JSON.parse(list.stdout) as ListResult).runs[0]).toMatchObject({ id: runId, status: 'crashed' });
      const d = await store.get(runId);
      expect(d.endpoints).toEqual([]);
      expect(d.checkpoints).toHaveLength(1);
      const last = d.checkpoints[0]!;
      expect(last).toMatchObject({ endpoint: 'A', step: last.epoch * 125 });
      expect(last.epoch).toBeGreaterThanOrEqual(2);
      const ref = d.artifacts.find((a) => a.role === 'checkpoint:A')!;
      expect(readCheckpointInfo(store.artifacts.read(ref.hash))).toEqual(last);

      // The CLI wrote every checkpoint to --out as it was stored, whole (the last one, unless the kill came between
      // storing it and copying it).
      const written = readdirSync(path.join(out2, 'checkpoints'));
      for (let e = 1; e < last.epoch; e++) expect(written).toContain(`A-epoch${e}.safetensors`);
      expect(written.filter((f) => !/^A-epoch\d+\.safetensors$/.test(f))).toEqual([]);
      for (const f of written) expect(readCheckpointInfo(readFileSync(path.join(out2, 'checkpoints', f)))).toMatchObject({ endpoint: 'A', epoch: Number(/epoch(\d+)/.exec(f)![1]) });
      if (written.includes(`A-epoch${last.epoch}.safetensors`)) {
        expect(readFileSync(path.join(out2, 'checkpoints', `A-epoch${last.epoch}.safetensors`)).equals(store.artifacts.read(ref.hash))).toBe(true);
      }

      const show = await modelab(['show', runId, '--db', db]);
      expect(show.stdout).toContain(`[crashed]`);
      expect(show.stdout).toContain(`checkpoints (latest of each endpoint): A epoch ${last.epoch} (step ${last.step})`);
      const b = path.join(tmp, 'killed-bundle');
      const ex = await modelab(['export', runId, '--format', 'bundle', '--out', b, '--db', db]);
      expect(ex.code, ex.stderr).toBe(0);
      expect(readdirSync(path.join(b, 'checkpoints'))).toEqual([`A-epoch${last.epoch}.safetensors`]);
      expect(readFileSync(path.join(b, 'checkpoints', `A-epoch${last.epoch}.safetensors`)).equals(store.artifacts.read(ref.hash))).toBe(true);
    } finally {
      cli.kill('SIGKILL');
      await store.close();
    }
  });
});
