/**
 * `modelab data get cifar10` against a local HTTP server (node:http) serving a small fake archive in the real
 * format (MODELAB_CIFAR10_URL / MODELAB_CIFAR10_MD5 point the command at it): download, verification, unpacking into
 * the folder CIFAR-10 recipes read by default, a run on it; a wrong checksum; a download that breaks off and resumes
 * with an HTTP Range request; a closed port (offline).
 */
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadDataset } from '../../src-main/engine/data/load';
import { datasetSchema } from '../../src-main/engine/data/config';
import { fakeCifarArchive } from '../engine/tar-files';
import { type Ran, bin, modelab, root } from './modelab';

const archive = fakeCifarArchive();
const md5 = createHash('md5').update(archive).digest('hex');

/** What the server does with the next request: serve it all, or only the first `cut` bytes then close (or, with
 *  `stall`, keep the connection open without sending more). */
let plan: { cut?: number; stall?: boolean } = {};
const requests: { range?: string }[] = [];
let server: http.Server;
let base = '';
let tmp = '';

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'modelab-data-get-'));
  server = http.createServer((req, res) => {
    requests.push({ range: req.headers.range });
    if (req.url !== '/cifar-10-binary.tar.gz') {
      res.writeHead(404).end();
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const from = m ? Number(m[1]) : 0;
    if (from >= archive.length) {
      // What Apache and nginx answer when the part asks for bytes beyond the end.
      res.writeHead(416, { 'content-range': `bytes */${archive.length}` }).end();
      return;
    }
    const body = archive.subarray(from);
    const head: http.OutgoingHttpHeaders = { 'content-type': 'application/gzip', 'content-length': body.length };
    if (m) head['content-range'] = `bytes ${from}-${archive.length - 1}/${archive.length}`;
    res.writeHead(m ? 206 : 200, head);
    if (plan.cut !== undefined) {
      // Part of the body, then the connection closed: the client sees fewer bytes than Content-Length.
      const stall = plan.stall;
      res.write(body.subarray(0, plan.cut), () => (stall ? undefined : res.socket?.end()));
      plan = {};
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});
beforeEach(() => {
  requests.length = 0;
  plan = {};
});

/** The CLI with ModeLab's home in `home` and the archive's source overridden. */
async function dataGet(home: string, args: string[], source: { url?: string; md5?: string } = {}): Promise<Ran> {
  const saved = { ...process.env };
  process.env['MODELAB_HOME'] = home;
  process.env['MODELAB_CIFAR10_URL'] = source.url ?? `${base}/cifar-10-binary.tar.gz`;
  process.env['MODELAB_CIFAR10_MD5'] = source.md5 ?? md5;
  try {
    return await modelab(['data', ...args]);
  } finally {
    for (const k of ['MODELAB_HOME', 'MODELAB_CIFAR10_URL', 'MODELAB_CIFAR10_MD5']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}

function oneLine(r: Ran, code: number, re: RegExp): void {
  expect(r.code).toBe(code);
  const lines = r.stderr.trim().split('\n');
  expect(lines[lines.length - 1]).toMatch(re);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('modelab data get cifar10', () => {
  it('downloads, verifies and unpacks into the default folder, where a cifar10 recipe without a folder reads it', async () => {
    const home = path.join(tmp, 'home-ok');
    const r = await dataGet(home, ['get', 'cifar10']);
    expect(r.stderr).toMatch(/cifar-10-binary\.tar\.gz {2}\d+\.\d MB of \d+\.\d MB \(100\.0%\) {2}\d+\.\d MB\/s/);
    expect(r.stderr).toContain('verified (MD5), unpacking into');
    expect(r.code).toBe(0);
    const dir = path.join(home, 'datasets', 'cifar10');
    expect(r.stdout).toBe(`CIFAR-10 is in ${path.join(dir, 'cifar-10-batches-bin')} (10 training and 3 test images)\n`);
    // Only the batches remain: the archive and the staging folder are gone.
    expect(readdirSync(dir)).toEqual(['cifar-10-batches-bin']);
    expect(readdirSync(path.join(dir, 'cifar-10-batches-bin')).sort()).toEqual(['batches.meta.txt', 'data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin']);

    // The loader, with no --data and no dir, finds it under MODELAB_HOME.
    const saved = process.env['MODELAB_HOME'];
    process.env['MODELAB_HOME'] = home;
    try {
      const d = loadDataset(datasetSchema.parse({ name: 'cifar10', normalize: 'none' }));
      expect([d.train.n, d.test.n]).toEqual([10, 3]);
      expect(Array.from(d.train.y)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
      expect(Array.from(d.test.y)).toEqual([3, 1, 4]);
      // Test record 1, pixel 0: red (1·7 + 0) = 7, green 57, blue 107 (tar-files.ts cifarBatch).
      expect(Array.from(d.test.x.subarray(3072, 3075))).toEqual([7, 57, 107]);
    } finally {
      process.env['MODELAB_HOME'] = saved;
    }

    // A second get finds it there and downloads nothing.
    const again = await dataGet(home, ['get', 'cifar10']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^CIFAR-10 is there already: .*cifar-10-batches-bin \(10 training and 3 test images; --force downloads it again\)/);
    expect(requests).toHaveLength(1);
    const list = await dataGet(home, ['list']);
    expect(list.stdout).toMatch(/cifar10 +present: 10 train \/ 3 test images +.*cifar-10-batches-bin/);

    // And a run reads it (no --data).
    const recipe = path.join(tmp, 'cifar-tiny.json');
    writeFileSync(
      recipe,
      JSON.stringify({
        name: 'cifar-tiny',
        dataset: { name: 'cifar10' },
        architecture: { type: 'mlp', hidden: [8] },
        training: { optimizer: 'sgd', lr: 0.01, batchSize: 5, epochs: 1 },
        paths: [{ type: 'linear', points: 3 }],
        evaluation: { trainSamples: null, testSamples: null, batchSize: 10 },
      }),
    );
    process.env['MODELAB_HOME'] = home;
    let run: Ran;
    try {
      run = await modelab(['run', '--config', recipe, '--no-store', '--json', '--workers', '1']);
    } finally {
      process.env['MODELAB_HOME'] = saved;
    }
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as { dataset: { name: string; source: string } };
    expect(doc.dataset.name).toBe('cifar10');
    expect(doc.dataset.source).toContain(path.join(dir, 'cifar-10-batches-bin'));
  });

  it('a wrong checksum is one line, and nothing is left in the folder', async () => {
    const home = path.join(tmp, 'home-bad');
    const r = await dataGet(home, ['get', 'cifar10'], { md5: 'f'.repeat(32) });
    oneLine(r, 1, new RegExp(`^modelab: the downloaded file's MD5 is ${md5}, expected f{32}: it was removed`));
    expect(readdirSync(path.join(home, 'datasets', 'cifar10'))).toEqual([]);
  });

  it('a download that breaks off keeps its part; the next get resumes it with a Range request', async () => {
    const home = path.join(tmp, 'home-resume');
    const dir = path.join(home, 'datasets', 'cifar10');
    const half = Math.floor(archive.length / 2);
    plan = { cut: half };
    const first = await dataGet(home, ['get', 'cifar10']);
    oneLine(first, 1, /^modelab: the download broke off after .* MB of .* MB \(.*\); run the command again to resume it/);
    const part = path.join(dir, 'cifar-10-binary.tar.gz.part');
    expect(statSync(part).size).toBe(half);
    expect(existsSync(path.join(dir, 'cifar-10-batches-bin'))).toBe(false);
    const list = await dataGet(home, ['list']);
    expect(list.stdout).toMatch(/cifar10 +partly downloaded/);

    const second = await dataGet(home, ['get', 'cifar10', '--dir', dir]);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('resumed at');
    expect(requests.map((q) => q.range)).toEqual([undefined, `bytes=${half}-`]);
    expect(readdirSync(dir)).toEqual(['cifar-10-batches-bin']);
  });

  it('a part already whole (the server answers 416 to its range) is verified and unpacked without downloading', async () => {
    const home = path.join(tmp, 'home-whole-part');
    const dir = path.join(home, 'datasets', 'cifar10');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'cifar-10-binary.tar.gz.part'), archive);
    const r = await dataGet(home, ['get', 'cifar10']);
    expect(r.code).toBe(0);
    expect(requests.map((q) => q.range)).toEqual([`bytes=${archive.length}-`]);
    expect(readdirSync(dir)).toEqual(['cifar-10-batches-bin']);
  });

  it('Ctrl-C (SIGINT) stops a download in one line and keeps its part to resume', async () => {
    const home = path.join(tmp, 'home-cancel');
    const part = path.join(home, 'datasets', 'cifar10', 'cifar-10-binary.tar.gz.part');
    const third = Math.floor(archive.length / 3);
    plan = { cut: third, stall: true };
    const env = { ...process.env, MODELAB_HOME: home, MODELAB_CIFAR10_URL: `${base}/cifar-10-binary.tar.gz`, MODELAB_CIFAR10_MD5: md5 };
    const child = spawn(process.execPath, [bin, 'data', 'get', 'cifar10'], { cwd: root, env });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    // Once the first third is on disk (the server then sends nothing more), interrupt.
    while ((statSync(part, { throwIfNoEntry: false })?.size ?? 0) < third) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    const last = stderr.trim().split('\n').pop();
    expect(last).toBe(`modelab: download cancelled (0.0 MB kept in ${part}; the next 'modelab data get cifar10' resumes it)`);
    expect(statSync(part).size).toBe(third);
  });

  it('a closed port says in one line that it is offline; bad arguments are one line too', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const r = await dataGet(path.join(tmp, 'home-offline'), ['get', 'cifar10'], { url: `http://127.0.0.1:${port}/cifar-10-binary.tar.gz` });
    oneLine(r, 1, new RegExp(`^modelab: offline: cannot reach 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)$`));
    oneLine(await dataGet(tmp, ['get', 'mnist']), 2, /^modelab: modelab data get: unknown dataset 'mnist' \(known: cifar10\)$/);
    oneLine(await dataGet(tmp, ['get']), 2, /^modelab: modelab data get needs a dataset: cifar10/);
    oneLine(await dataGet(tmp, ['fetch']), 2, /^modelab: modelab data: unknown subcommand 'fetch' \(get, list\)$/);
    const help = await dataGet(tmp, ['--help']);
    expect(help.stdout).toContain('https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz');
    expect(help.stdout).toContain('c32a1d4ab5d03f1284b67883e8d87530');
  });
});
