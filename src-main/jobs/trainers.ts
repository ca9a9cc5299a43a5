/**
 * Endpoint training for `runRecipe`'s `trainEndpoints` hook: one after the other in this process, or — when more
 * than one core is available — one training process per endpoint (train-worker.ts), all at once. Each training
 * process selects the same backend, loads the same dataset from the recipe (checked by checksum) and runs the same
 * `train`, so a seed gives the same weights either way. Checkpoints (training.checkpointEvery) are staged in the
 * artifact folder by whichever process trains, and reported through `checkpoints.onCheckpoint`.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { type CheckpointInfo, checkpointSafetensors } from '../engine/experiment/export';
import { makeDirs } from '../engine/io/mkdirs';
import { readSafetensors } from '../engine/io/safetensors';
import type { EndpointTrainJob, RunOptions } from '../engine/experiment/run';
import { type CurvePoint, type TrainResult, totalSteps, train } from '../engine/train/loop';
import type { HostParams } from '../engine/nn/params';
import { parameterCount } from '../engine/nn/spec';
import { CancelledError, InputError } from '../engine/util/errors';
import { ArtifactStore, type StagedArtifact } from '../store/artifacts';
import type { FromTrainer, ToTrainer, TrainJobSpec } from './protocol';
import { workerCount, workerEnv } from './parallelism';
import { type Launcher, forkLauncher, workerEntry } from './process';

export type TrainEndpoints = NonNullable<RunOptions['trainEndpoints']>;

/** A training checkpoint staged in the artifact folder. */
export type StagedCheckpoint = CheckpointInfo & { weights: StagedArtifact };

/** Writes a checkpoint file to the staging folder of the artifact folder `artifactsDir`. */
export function stageCheckpoint(artifactsDir: string, c: CheckpointInfo, params: HostParams): StagedArtifact {
  return new ArtifactStore(artifactsDir).stage(checkpointSafetensors(c, params));
}

/**
 * Training work (samples × parameters) below which a training process is not worth starting: a process needs a second
 * or two to load tfjs and the data, and the smoke preset's endpoints (2·10⁸ each) train in about that time.
 */
export const PARALLEL_MIN_WORK = 5e9;

/** Samples × parameters of the largest endpoint training. */
export function trainingWork(jobs: EndpointTrainJob[], ctx: { spec: Parameters<TrainEndpoints>[1]['spec']; data: Parameters<TrainEndpoints>[1]['data'] }): number {
  const params = parameterCount(ctx.spec);
  return Math.max(0, ...jobs.map((j) => totalSteps(j.config, ctx.data.train.n).total * Math.min(j.config.batchSize, ctx.data.train.n) * params));
}

/** Whether to train endpoints in parallel processes: 'auto' means when there are several endpoints and workers
 *  (workerCount(): the cores, or --workers / MODELAB_WORKERS), and
 *  enough work to pay for starting processes (MODELAB_PARALLEL_ENDPOINTS=0 turns it off, =1 on). */
export function useParallelEndpoints(mode: 'auto' | 'on' | 'off', endpoints: number, work = Infinity): boolean {
  if (mode === 'off' || endpoints < 2) return false;
  if (mode === 'on') return true;
  const env = process.env['MODELAB_PARALLEL_ENDPOINTS'];
  if (env === '0') return false;
  if (env === '1') return true;
  return workerCount() > 1 && work >= PARALLEL_MIN_WORK;
}

export interface TrainerOptions {
  /** true / false, or 'auto': decided from the endpoints, the cores and the training work (useParallelEndpoints). */
  parallel: boolean | 'auto';
  /** Backend name the training processes select (the experiment's own). */
  backend: string;
  /** The recipe's dataset section. */
  dataset: unknown;
  dataDir?: string;
  /** Folder for the weight files training processes hand back. */
  tmpDir: string;
  heartbeatMs?: number;
  launcher?: Launcher;
  entry?: string;
  /** Most training processes at once (default: workerCount(), parallelism.ts). */
  maxProcesses?: number;
  /** Keep training checkpoints: each is staged in `artifactsDir` and reported (absent: none are made). */
  checkpoints?: { artifactsDir: string; onCheckpoint: (c: StagedCheckpoint) => void };
}

export function endpointTrainer(o: TrainerOptions): TrainEndpoints {
  return async (jobs, ctx) => {
    const parallel = o.parallel === 'auto' ? useParallelEndpoints('auto', jobs.length, trainingWork(jobs, ctx)) : o.parallel;
    if (!parallel) {
      const out: TrainResult[] = [];
      for (const j of jobs) {
        out.push(
          await train(ctx.spec, ctx.data, j.config, {
            seed: j.seed,
            stage: j.stage,
            label: j.label,
            onProgress: ctx.onProgress,
            signal: ctx.signal,
            onCurvePoint: (p) => ctx.onCurvePoint?.(j.name, p),
            onCheckpoint: o.checkpoints
              ? (params, epoch, step) => {
                  const c = { endpoint: j.name, epoch, step };
                  o.checkpoints!.onCheckpoint({ ...c, weights: stageCheckpoint(o.checkpoints!.artifactsDir, c, params) });
                }
              : undefined,
          }),
        );
      }
      return out;
    }
    return trainInProcesses(jobs, ctx, o);
  };
}

function trainerError(m: Extract<FromTrainer, { type: 'error' }>, name: string): Error {
  if (m.kind === 'input') return new InputError(m.message);
  const e = new Error(`training ${name}: ${m.message}`) as Error & { code?: string };
  if (m.code) e.code = m.code;
  return e;
}

async function trainInProcesses(jobs: EndpointTrainJob[], ctx: Parameters<TrainEndpoints>[1], o: TrainerOptions): Promise<TrainResult[]> {
  const launcher = o.launcher ?? forkLauncher;
  const entry = o.entry ?? workerEntry('train-worker');
  const limit = Math.max(1, o.maxProcesses ?? workerCount());
  const env = workerEnv(Math.min(limit, jobs.length));
  makeDirs(o.tmpDir);
  const live = new Set<{ kill: () => void }>();
  let failed: Error | null = null;
  const killAll = (): void => {
    for (const c of live) c.kill();
  };
  const onAbort = (): void => {
    failed ??= new CancelledError();
    killAll();
  };
  ctx.signal?.addEventListener('abort', onAbort);

  const one = (j: EndpointTrainJob): Promise<TrainResult> =>
    new Promise<TrainResult>((resolve, reject) => {
      if (failed) return reject(failed);
      const outFile = path.join(o.tmpDir, `train-${process.pid}-${j.name}-${randomBytes(4).toString('hex')}.safetensors`);
      const child = launcher(entry, { env });
      const handle = { kill: () => child.kill('SIGKILL') };
      live.add(handle);
      let result: TrainResult | null = null;
      let error: Error | null = null;
      child.onMessage((raw) => {
        const m = raw as FromTrainer;
        switch (m.type) {
          case 'ready': {
            const spec: TrainJobSpec = {
              name: j.name,
              seed: j.seed,
              config: j.config,
              spec: ctx.spec,
              stage: j.stage,
              label: j.label,
              dataset: o.dataset,
              dataDir: o.dataDir,
              checksum: ctx.data.checksum,
              backend: o.backend,
              outFile,
              heartbeatMs: o.heartbeatMs ?? 2000,
              ...(o.checkpoints ? { checkpointsDir: o.checkpoints.artifactsDir } : {}),
            };
            child.send({ type: 'train', job: spec } satisfies ToTrainer);
            break;
          }
          case 'progress':
            ctx.onProgress?.(m.event);
            break;
          case 'curve':
            ctx.onCurvePoint?.(j.name, m.point);
            break;
          case 'checkpoint':
            o.checkpoints?.onCheckpoint({ endpoint: j.name, epoch: m.epoch, step: m.step, weights: m.weights });
            break;
          case 'trained':
            try {
              const params = readSafetensors(m.file).tensors;
              result = { params, curve: m.curve, steps: m.steps, samples: m.samples, seconds: m.seconds, samplesPerSec: m.samplesPerSec };
            } catch (e) {
              error = e as Error;
            }
            break;
          case 'error':
            error = trainerError(m, j.name);
            break;
          case 'cancelled':
            error = new CancelledError();
            break;
          default:
            break;
        }
      });
      child.onExit((code, signal) => {
        live.delete(handle);
        rmSync(outFile, { force: true });
        if (result && !failed) return resolve(result);
        const e = failed ?? error ?? new Error(`the training process for ${j.name} stopped (${signal ? `signal ${signal}` : `exit code ${code}`}) before finishing`);
        failed ??= e;
        killAll();
        reject(e);
      });
    });

  try {
    const out: TrainResult[] = new Array(jobs.length);
    let next = 0;
    const lanes = Array.from({ length: Math.min(limit, jobs.length) }, async () => {
      while (next < jobs.length) {
        const k = next++;
        out[k] = await one(jobs[k]!);
      }
    });
    const settled = await Promise.allSettled(lanes);
    const bad = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (bad) throw failed ?? bad.reason;
    return out;
  } finally {
    ctx.signal?.removeEventListener('abort', onAbort);
    killAll();
  }
}
