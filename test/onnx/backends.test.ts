/**
 * The backend list has one home (engine/backend/names.ts): the wire contract accepts every name in it, the CLI lists
 * every ONNX Runtime backend with why it is or is not available, an unavailable one asked for by name is a one-line
 * error, and ONNX Runtime's thread count comes from MODELAB_THREADS_PER_PROCESS.
 */
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { checkArgs, startRunSchema } from '../../src-main/api/wire';
import { KNOWN_BACKEND_NAMES, ONNX_BACKEND_NAMES } from '../../src-main/engine/backend/names';
import { probeAll } from '../../src-main/engine/backend/backends';
import { ortThreads } from '../../src-main/engine/onnx/runtime';
import { modelab } from '../cli/modelab';

describe('backend names', () => {
  it('the wire contract accepts every known backend and auto, and refuses others', () => {
    for (const backend of [...KNOWN_BACKEND_NAMES, 'auto']) {
      expect(startRunSchema.safeParse({ preset: 'smoke', backend }).success, backend).toBe(true);
    }
    expect(checkArgs('startRun', [{ preset: 'smoke', backend: 'onnx-tpu' }])).toMatchObject({ ok: false, error: { name: 'ArgumentError' } });
  });

  it('probing lists every onnx backend; an unavailable one says why', async () => {
    const probes = await probeAll();
    expect(probes.map((p) => p.name)).toEqual([...KNOWN_BACKEND_NAMES]);
    for (const name of ONNX_BACKEND_NAMES) {
      const p = probes.find((q) => q.name === name)!;
      if (!p.available) expect(p.reason, name).toMatch(/\w{4,}/);
    }
    // The CUDA provider is a separate download that the offline install skips.
    const cuda = probes.find((q) => q.name === 'onnx-cuda')!;
    if (!cuda.available) expect(cuda.reason).toMatch(/CUDA provider is not installed|does not start/);
  });

  it('modelab backends prints a row for each onnx backend, and asking for an unavailable one is a one-line error', async () => {
    const r = await modelab(['backends']);
    expect(r.code).toBe(0);
    for (const name of ONNX_BACKEND_NAMES) expect(r.stdout).toMatch(new RegExp(`^${name}\\s+(yes|no)\\b`, 'm'));
    const missing = (await probeAll()).find((p) => !p.available && p.name.startsWith('onnx-'));
    if (missing) {
      const run = await modelab(['run', '--preset', 'smoke', '--backend', missing.name]);
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toContain(`backend '${missing.name}' is not available here`);
    }
  });
});

describe('ONNX Runtime threads', () => {
  it('uses MODELAB_THREADS_PER_PROCESS when it is a positive integer, else every core', () => {
    expect(ortThreads({ MODELAB_THREADS_PER_PROCESS: '3' })).toBe(3);
    expect(ortThreads({ MODELAB_THREADS_PER_PROCESS: ' 1 ' })).toBe(1);
    expect(ortThreads({})).toBe(os.availableParallelism());
    for (const bad of ['0', '-2', 'two', '1.5', '']) expect(ortThreads({ MODELAB_THREADS_PER_PROCESS: bad })).toBe(os.availableParallelism());
  });
});
