/** `modelab serve` as a command: help, the URL it prints, the token for non-loopback hosts, clean exit. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { serve } from '../e2e/helpers';

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
  });

  it('--port 0 picks a free port on loopback and prints the URL; a non-loopback host gets a printed token', async () => {
    const a = await serve();
    try {
      expect(a.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(a.output()).not.toContain('access token');
      expect(a.output()).toContain(`history: ${path.join(a.home, 'history.sqlite')}`);
    } finally {
      await a.stop();
    }
    const b = await serve(['--host', '0.0.0.0']);
    try {
      expect(b.url).toMatch(/\?token=[A-Za-z0-9_-]{32}$/);
      expect(b.output()).toMatch(/access token: [A-Za-z0-9_-]{32}/);
      expect(b.output()).toContain('reachable from other machines');
    } finally {
      await b.stop();
    }
    expect(b.child.exitCode).toBe(0);
  });
});
