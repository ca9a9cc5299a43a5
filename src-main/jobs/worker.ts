/**
 * The experiment job process: runs one recipe and streams what it computes to its owner (protocol.ts), staging
 * weights, checkpoints and path vertices in the artifact folder as each stage completes. Started by the JobRunner; exits when the
 * run ends, when it is cancelled, or when its owner goes away.
 */
import { selectBackend } from '../engine/backend/backends';
import type { RunEvent } from '../engine/experiment/events';
import { applyRunEvent, emptyRun } from '../engine/experiment/run-so-far';
import { checkpointSafetensors, endpointsSafetensors, evalDataSafetensors, pathSafetensors } from '../engine/experiment/export';
import { endpointSeed, parseAnyRecipe } from '../engine/recipe/resolve';
import type { RunResult } from '../engine/experiment/result';
import { runAnyRecipe } from '../engine/experiment/run-any';
import { isCounterexample } from '../engine/recipe/schema';
import type { CurvePoint } from '../engine/train/loop';
import { CancelledError } from '../engine/util/errors';
import { ArtifactStore } from '../store/artifacts';
import { storageError } from '../store/errors';
import { environmentOf } from '../store/environment';
import type { RecordedRunEvent } from '../store/recorded-event';
import { type FromWorker, type JobSpec, type ToWorker, describeError } from './protocol';
import { ownerLauncher } from './helpers';
import { leaveTerminalSignalsToOwner, parentPort } from './process';
import { pointWorkerPool } from './points';
import { endpointTrainer, useParallelEndpoints } from './trainers';

const port = parentPort();
const send = (m: FromWorker, sent?: () => void): void => port.send(m, sent);
/** Training processes and the point worker are started by the owner (helpers.ts): a utility process cannot. */
const helperLauncher = ownerLauncher(port);
const controller = new AbortController();
let started = false;

leaveTerminalSignalsToOwner();
port.onDisconnect(() => {
  // The owner is gone: nobody records what we compute. Stop now (the owner's crash detection marks the run).
  process.exit(70);
});

port.onMessage((raw) => {
  const msg = raw as ToWorker;
  if (msg.type === 'cancel') controller.abort();
  else if (msg.type === 'start' && !started) {
    started = true;
    run(msg.job).then(
      (result) => send({ type: 'result', result }, () => process.exit(0)),
      (e: unknown) => {
        if (e instanceof CancelledError || controller.signal.aborted) send({ type: 'cancelled' }, () => process.exit(0));
        // A full or read-only disk in plain words, naming the artifact folder (store/errors.ts).
        else send({ type: 'error', ...describeError(storageError(e, msg.job.artifactsDir)) }, () => process.exit(1));
      },
    );
  }
});

send({ type: 'ready', pid: process.pid });

async function run(job: JobSpec): Promise<RunResult> {
  const beat = setInterval(() => send({ type: 'heartbeat', at: Date.now() }), job.heartbeatMs);
  beat.unref();
  const artifacts = new ArtifactStore(job.artifactsDir);
  const recipe = parseAnyRecipe(job.recipe, 'recipe');
  const backend = await selectBackend(job.backend);
  const signal = controller.signal;
  const preset = job.preset ?? undefined;
  const record = (event: RecordedRunEvent): void => send({ type: 'event', event });
  // Curve points go out in small batches (at most every 250 ms) rather than one message each.
  const pending = new Map<string, CurvePoint[]>();
  let flushTimer: NodeJS.Timeout | null = null;
  const flush = (): void => {
    flushTimer = null;
    for (const [endpoint, points] of pending) if (points.length) record({ kind: 'curve', endpoint, points: points.splice(0) });
  };
  const addCurve = (endpoint: string, points: CurvePoint[]): void => {
    let list = pending.get(endpoint);
    if (!list) pending.set(endpoint, (list = []));
    list.push(...points);
    flushTimer ??= setTimeout(flush, 250);
  };

  // The experiment's events (engine/experiment/events.ts) forwarded to the owner, weights staged as files; the
  // environment record is made from their fold (store/environment.ts) as the header, the architecture, the dataset
  // and the evaluation sets become known.
  let inputShape: [number, number, number] | null = null;
  let told = emptyRun;
  const seeds = isCounterexample(recipe) ? [] : recipe.endpoints.map((x, i) => ({ name: x.name, seed: endpointSeed(recipe, i) }));
  const sendEnvironment = (): void => {
    if (told.start) send({ type: 'environment', environment: environmentOf({ ...told.start, architecture: told.architecture, dataset: told.dataset, endpoints: seeds }) });
  };
  const forward = (e: RunEvent): void => {
    switch (e.kind) {
      case 'progress':
        return record(e);
      case 'curve':
        return addCurve(e.endpoint, e.points);
      case 'environment':
        told = applyRunEvent(told, e);
        sendEnvironment();
        return record(e);
      case 'plan':
        told = applyRunEvent(told, e);
        inputShape = e.dataset.inputShape;
        sendEnvironment();
        return record(e);
      case 'eval-data': {
        told = applyRunEvent(told, e);
        sendEnvironment();
        const sets = { train: { n: e.sets.train.n }, test: { n: e.sets.test.n } };
        return record({ kind: 'eval-data', data: artifacts.stage(evalDataSafetensors(inputShape!, e.sets)), sets });
      }
      case 'checkpoint':
        flush(); // the curve up to the checkpoint first
        return record({ kind: 'checkpoint', endpoint: e.endpoint, epoch: e.epoch, step: e.step, weights: artifacts.stage(checkpointSafetensors(e, e.params)) });
      case 'endpoint':
        flush();
        return record({ kind: 'endpoint', index: e.index, endpoint: e.endpoint, weights: artifacts.stage(endpointsSafetensors({ [e.endpoint.name]: e.params })) });
      case 'stability':
      case 'plane':
      case 'done': // the finished document itself goes out as the job's result
        return record(e);
      case 'path':
        return record({ kind: 'path', index: e.index, result: e.result, vertices: artifacts.stage(pathSafetensors(e.path)) });
    }
  };

  // A helper process for path points, started while the endpoints train when the paths need it (points.ts).
  const pointWorkers = isCounterexample(recipe)
    ? undefined
    : pointWorkerPool({
        parallel: job.parallelPoints === 'on' ? true : job.parallelPoints === 'off' ? false : 'auto',
        backend: backend.backend,
        tmpDir: artifacts.tmpDir,
        signal,
        onWarning: (m) => process.stderr.write(`modelab: ${m}\n`),
        launcher: helperLauncher,
      });
  try {
    return await experiment();
  } finally {
    // Whatever ends the run (done, cancelled, an error), the curve points trained so far are sent.
    flush();
    if (flushTimer) clearTimeout(flushTimer);
    clearInterval(beat);
    await pointWorkers?.close();
  }

  function experiment(): Promise<RunResult> {
    return runAnyRecipe(recipe, {
      backend,
      preset,
      dataDir: job.dataDir,
      signal,
      pointWorkers,
      onEvent: forward,
      ...(isCounterexample(recipe)
        ? {}
        : {
            trainEndpoints: endpointTrainer({
              parallel: job.parallelEndpoints === 'auto' ? 'auto' : useParallelEndpoints(job.parallelEndpoints, recipe.endpoints.length),
              backend: backend.backend,
              dataset: recipe.dataset,
              dataDir: job.dataDir,
              tmpDir: artifacts.tmpDir,
              heartbeatMs: job.heartbeatMs,
              launcher: helperLauncher,
              checkpoints: {
                artifactsDir: job.artifactsDir,
                onCheckpoint: (c) => {
                  flush(); // the curve up to the checkpoint first
                  record({ kind: 'checkpoint', endpoint: c.endpoint, epoch: c.epoch, step: c.step, weights: c.weights });
                },
              },
            }),
          }),
    });
  }
}
