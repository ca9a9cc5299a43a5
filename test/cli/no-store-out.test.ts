/**
 * `modelab run --no-store --out DIR` writes as it goes (issue 11): each finished stage lands in DIR at once, so a run
 * stopped midway keeps what it finished, and a finished run's folder is the same as before.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../../src-main/engine/io/safetensors';
import { bin, modelab, root } from './modelab';

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'modelab-no-store-out-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Two quick endpoints, a quick straight line, then a Bézier curve trained for a long time. */
const recipe = {
  name: 'stopped-after-line',
  seed: 3,
  dataset: { name: 'gaussian-mixture', classes: 3, dim: 8, train: 240, test: 120, seed: 0 },
  architecture: { type: 'mlp', hidden: [16] },
  training: { optimizer: 'sgd', lr: 0.05, batchSize: 40, epochs: 1 },
  paths: [
    { type: 'linear', name: 'line', points: 5 },
    { type: 'bezier', name: 'curve', steps: 5_000_000, batchSize: 40, points: 5 },
  ],
  evaluation: { trainSamples: null, testSamples: null, batchSize: 500 },
};

describe('run --no-store --out DIR', () => {
  it('a run stopped (SIGINT) after its first path keeps the endpoints, the evaluation data and that path in DIR', async () => {
    const cfg = path.join(tmp, 'stopped.json');
    writeFileSync(cfg, JSON.stringify(recipe));
    const out = path.join(tmp, 'stopped');
    const env = { ...process.env };
    delete env['MODELAB_BACKEND'];
    const cli = spawn(process.execPath, [bin, 'run', '--config', cfg, '--backend', 'cpu', '--no-store', '--out', out], { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    cli.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => cli.on('exit', (code) => resolve(code)));
    try {
      const lineJson = path.join(out, 'paths', 'line.json');
      for (let k = 0; !existsSync(lineJson); k++) {
        if (k > 1200) throw new Error(`the first path was never written: ${stderr}`);
        await sleep(100);
      }
      cli.kill('SIGINT');
      expect(await exited, stderr).toBe(130);
    } finally {
      cli.kill('SIGKILL');
    }
    const endpoints = decodeSafetensors(readFileSync(path.join(out, 'endpoints.safetensors')), 'endpoints');
    expect(Object.keys(endpoints.tensors).some((k) => k.startsWith('A.'))).toBe(true);
    expect(Object.keys(endpoints.tensors).some((k) => k.startsWith('B.'))).toBe(true);
    const evalData = decodeSafetensors(readFileSync(path.join(out, 'eval-data.safetensors')), 'eval data');
    expect(evalData.tensors['train.x']!.shape).toEqual([240, 1, 1, 8]);
    const line = JSON.parse(readFileSync(path.join(out, 'paths', 'line.json'), 'utf8')) as { name: string; points: unknown[] };
    expect(line.name).toBe('line');
    expect(line.points).toHaveLength(5);
    expect(Object.keys(decodeSafetensors(readFileSync(path.join(out, 'paths', 'line.safetensors')), 'line').tensors)).toContain('v1.A1.w');
    // The unfinished curve and the run document (written when the run ends) are not there; no temp file is left.
    expect(existsSync(path.join(out, 'paths', 'curve.json'))).toBe(false);
    expect(existsSync(path.join(out, 'run.json'))).toBe(false);
    expect([...readdirSync(out), ...readdirSync(path.join(out, 'paths'))].filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 180_000);

  it('a finished run writes every file, run.json included', async () => {
    const out = path.join(tmp, 'finished');
    const r = await modelab(['run', '--preset', 'smoke', '--backend', 'cpu', '--no-store', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    for (const f of ['run.json', 'endpoints.safetensors', 'eval-data.safetensors']) expect(existsSync(path.join(out, f)), f).toBe(true);
    const run = JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8')) as { paths: { name: string }[] };
    for (const p of run.paths) {
      expect(existsSync(path.join(out, 'paths', `${p.name}.json`)), p.name).toBe(true);
      expect(existsSync(path.join(out, 'paths', `${p.name}.safetensors`)), p.name).toBe(true);
    }
  }, 180_000);
});
