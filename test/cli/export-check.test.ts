/**
 * The exported vertices reproduce the reported losses outside ModeLab: `modelab run --out DIR`, then the numpy-only
 * docs/check_paths.py re-evaluates every point of every path from the safetensors files.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
const python = process.env['MODELAB_PYTHON'] ?? 'python3';
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(root, 'bin/modelab.mjs'), ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, MODELAB_BACKEND: 'wasm' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('export for outside checking', () => {
  it.each(['smoke', 'counterexample'])('numpy re-evaluates every exported point of the %s preset within 1e-4', (preset) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), `modelab-export-${preset}-`));
    dirs.push(dir);
    const r = run(['run', '--preset', preset, '--out', dir, '--no-store']);
    expect(r.status, r.stderr).toBe(0);
    const files = readdirSync(path.join(dir, 'paths'));
    expect(files.filter((f) => f.endsWith('.safetensors')).length).toBeGreaterThanOrEqual(2);
    const check = spawnSync(python, [path.join(root, 'docs/check_paths.py'), dir], { encoding: 'utf8' });
    expect(check.status, check.stderr + check.stdout).toBe(0);
    const largest = Number(/largest difference: (\S+)/.exec(check.stdout)![1]);
    expect(largest).toBeLessThanOrEqual(1e-4);
    // Every point of every path was checked.
    expect(check.stdout.match(/^ {2}t=/gm)!.length).toBeGreaterThan(60);
  });
});
