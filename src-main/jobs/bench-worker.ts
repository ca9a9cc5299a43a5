/** The quick bench's process (bench-job.ts): measures the backend, keeps the result, reports, exits. */
import { selectBackend } from '../engine/backend/backends';
import { runBench } from '../engine/experiment/bench';
import { benchDirIn, keepBenchResult } from '../engine/bench/stored';
import { modelabHome } from '../store/location';
import type { FromBenchWorker, ToBenchWorker } from './bench-job';
import { parentPort } from './process';

const port = parentPort();
const send = (m: FromBenchWorker, then: () => void): void => port.send(m, then);
port.onDisconnect(() => process.exit(70));

port.onMessage((raw) => {
  const msg = raw as ToBenchWorker;
  if (msg.type !== 'bench') return;
  (async () => {
    const r = await runBench(await selectBackend(msg.backend), { quick: true });
    keepBenchResult(benchDirIn(modelabHome()), r);
    return r;
  })().then(
    (r) => send({ type: 'done', startedAt: r.startedAt, backend: r.backend }, () => process.exit(0)),
    (e: unknown) => send({ type: 'error', message: (e as Error).message ?? String(e) }, () => process.exit(1)),
  );
});
