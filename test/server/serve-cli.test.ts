/** `modelab serve` as a command: help, the URL and token it prints (loopback too), --token and MODELAB_TOKEN, --files,
 *  clean exit. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { serve } from '../e2e/helpers';
import { Rpc, wsOpen } from './helpers';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('modelab serve', () => {
  it('documents itself', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/modelab.mjs'), 'serve', '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: modelab serve [--port N] [--host ADDR]');
    expect(r.stdout).toContain('ssh -L');
    const top = spawnSync(process.execPath, [path.join(ROOT, 'bin/modelab.mjs'), 'help'], { encoding: 'utf8' });
    expect(top.stdout).toMatch(/serve\s+the app in a browser/);
    const bad = spawnSync(process.execPath, [path.join(ROOT, 'bin/modelab.mjs'), 'serve', '--port', 'eighty'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--port needs a non-negative integer/);
    expect(r.stdout).toMatch(/--files DIR +another folder recipes may read files from/);
    const noFolder = spawnSync(process.execPath, [path.join(ROOT, 'bin/modelab.mjs'), 'serve', '--files', '/no/such/folder'], { encoding: 'utf8' });
    expect(noFolder.status).toBe(2);
    expect(noFolder.stderr.trim()).toBe('modelab: --files /no/such/folder: no such folder');
  });

  it('--files DIR (repeatable) lets recipes read there, and nowhere else but the weights and datasets folders', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'modelab-serve-files-'));
    const [a, b] = [path.join(dir, 'a'), path.join(dir, 'b')];
    for (const d of [a, b, path.join(dir, 'c')]) mkdirSync(d);
    const s = await serve(['--files', a, '--files', b]);
    const rpc = new Rpc(await wsOpen(`${s.url.replace(/^http/, 'ws')}ws`, { Authorization: `Bearer ${s.token}`, Origin: s.url.replace(/\/$/, '') }));
    try {
      const issues = async (d: string): Promise<unknown> => {
        const recipe = { name: 'f', dataset: { name: 'npy', dir: d }, architecture: { type: 'mlp', hidden: [4] }, training: { steps: 1 } };
        return ((await rpc.call('validateRecipe', recipe)).value as { issues: unknown[] }).issues;
      };
      expect(await issues(a)).toEqual([]);
      expect(await issues(b)).toEqual([]);
      expect(await issues(path.join(s.home, 'datasets', 'mine'))).toEqual([]);
      expect(await issues(path.join(dir, 'c'))).toEqual([{ path: ['dataset', 'dir'], message: expect.stringMatching(/c is outside the folders this server reads \(.*weights, .*a, .*b, .*datasets\)/) }]);
    } finally {
      rpc.ws.close();
      await s.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--port 0 picks a free port on loopback and prints the URL with a random token, required there too', async () => {
    const a = await serve();
    try {
      expect(a.openUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/);
      expect(a.output()).toContain(`access token: ${a.token}`);
      expect(a.output()).not.toContain('reachable from other machines');
      expect(a.output()).toContain(`history: ${path.join(a.home, 'history.sqlite')}`);
      expect((await fetch(a.url)).status).toBe(401);
      expect((await fetch(a.url, { headers: { Authorization: `Bearer ${a.token}` } })).status).toBe(200);
    } finally {
      await a.stop();
    }
    const b = await serve(['--host', '0.0.0.0']);
    try {
      expect(b.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(b.token).not.toBe(a.token);
      expect(b.output()).toContain('reachable from other machines');
    } finally {
      await b.stop();
    }
    expect(b.child.exitCode).toBe(0);
  });

  it('takes the token from --token, else from MODELAB_TOKEN; refuses a bad one with exit 2', async () => {
    const given = 'given-token-0123456789';
    const fromEnv = 'env-token-0123456789ab';
    const a = await serve(['--token', given], { MODELAB_TOKEN: fromEnv });
    try {
      expect(a.token).toBe(given);
    } finally {
      await a.stop();
    }
    const b = await serve([], { MODELAB_TOKEN: fromEnv });
    try {
      expect(b.token).toBe(fromEnv);
      expect((await fetch(`${b.url}api/health`, { headers: { Authorization: `Bearer ${fromEnv}` } })).status).toBe(200);
    } finally {
      await b.stop();
    }
    const bad = spawnSync(process.execPath, [path.join(ROOT, 'bin/modelab.mjs'), 'serve', '--token', 'short'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toBe('modelab: --token: a token needs 16 to 200 letters, digits, _ or -');
    const badEnv = spawnSync(process.execPath, [path.join(ROOT, 'bin/modelab.mjs'), 'serve'], { encoding: 'utf8', env: { ...process.env, MODELAB_TOKEN: 'has spaces in it, no' } });
    expect(badEnv.status).toBe(2);
    expect(badEnv.stderr).toMatch(/^modelab: MODELAB_TOKEN: a token needs 16 to 200/);
  });
});
