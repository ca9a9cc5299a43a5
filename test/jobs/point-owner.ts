/**
 * A stand-in experiment process for test/jobs/points.test.ts: starts a point worker, reports its pid and waits (the
 * test then kills this process and checks that the worker follows).
 */
import { resolveArchitecture } from '../../src-main/engine/recipe/resolve';
import { PointProcessPool } from '../../src-main/jobs/points';

process.on('message', (m) => {
  const pool = new PointProcessPool({ parallel: true, backend: 'wasm', tmpDir: (m as { tmpDir: string }).tmpDir });
  pool.prepare({ spec: resolveArchitecture({ type: 'mlp', hidden: [4], bias: true, dropout: 0 }, [2, 1, 1], 2), pointwiseMacs: 1 });
  process.send!({ worker: pool.pid });
});
