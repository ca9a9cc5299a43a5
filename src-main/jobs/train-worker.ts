/**
 * A training process: trains one endpoint for an experiment process (trainers.ts) and hands back its weights as a
 * safetensors file, streaming progress, curve points and checkpoints (staged in the artifact folder) meanwhile. Exits
 * when done, cancelled, or orphaned.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { selectBackend } from '../engine/backend/backends';
import { loadDataset } from '../engine/data/load';
import { encodeSafetensors } from '../engine/io/safetensors';
import type { DatasetConfig } from '../engine/data/config';
import { train } from '../engine/train/loop';
import { CancelledError } from '../engine/util/errors';
import { storageError } from '../store/errors';
import { type FromTrainer, type ToTrainer, type TrainJobSpec, describeError } from './protocol';
import { leaveTerminalSignalsToOwner, parentPort } from './process';
import { stageCheckpoint } from './trainers';

const port = parentPort();
const send = (m: FromTrainer, sent?: () => void): void => port.send(m, sent);
const controller = new AbortController();
let started = false;

leaveTerminalSignalsToOwner();
port.onDisconnect(() => process.exit(70));

port.onMessage((raw) => {
  const msg = raw as ToTrainer;
  if (msg.type === 'cancel') controller.abort();
  else if (msg.type === 'train' && !started) {
    started = true;
    go(msg.job).then(
      (done) => send(done, () => process.exit(0)),
      (e: unknown) =>
        send(e instanceof CancelledError ? { type: 'cancelled' } : { type: 'error', ...describeError(storageError(e, path.dirname(msg.job.outFile))) }, () => process.exit(1)),
    );
  }
});

send({ type: 'ready', pid: process.pid });

async function go(job: TrainJobSpec): Promise<FromTrainer> {
  const beat = setInterval(() => send({ type: 'heartbeat', at: Date.now() }), job.heartbeatMs);
  beat.unref();
  await selectBackend(job.backend);
  const data = loadDataset(job.dataset as DatasetConfig, { dataDir: job.dataDir });
  if (data.checksum !== job.checksum) {
    throw new Error(`the training process loaded different data (checksum ${data.checksum.slice(0, 12)}, expected ${job.checksum.slice(0, 12)})`);
  }
  const r = await train(job.spec, data, job.config, {
    seed: job.seed,
    stage: job.stage,
    label: job.label,
    signal: controller.signal,
    onProgress: (event) => send({ type: 'progress', event }),
    onCurvePoint: (point) => send({ type: 'curve', point }),
    onCheckpoint: job.checkpointsDir
      ? (params, epoch, step) =>
          send({ type: 'checkpoint', epoch, step, weights: stageCheckpoint(job.checkpointsDir!, { endpoint: job.name, epoch, step }, params) })
      : undefined,
  });
  // A hand-over file in the staging folder (the experiment process reads and deletes it).
  writeFileSync(job.outFile, encodeSafetensors(r.params));
  clearInterval(beat);
  return { type: 'trained', file: job.outFile, steps: r.steps, samples: r.samples, seconds: r.seconds, samplesPerSec: r.samplesPerSec, curve: r.curve };
}
