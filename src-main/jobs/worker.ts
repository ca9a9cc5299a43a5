/**
 * The experiment job process: runs one recipe and streams what it computes to its owner (protocol.ts), staging
 * weights, checkpoints and path vertices in the artifact folder as each stage completes. Started by the JobRunner; exits when the
 * run ends, when it is cancelled, or when its owner goes away.
 */
import { selectBackend } from '../engine/backend/backends';
import { endpointsSafetensors, evalDataSafetensors, pathSafetensors } from '../engine/io/export';
import { runCounterexample } from '../engine/recipe/counterexample-run';
import { endpointSeed, parseAnyRecipe } from '../engine/recipe/resolve';
import { type EndpointResult, type PathResult, type RunResult, describeDataset } from '../engine/recipe/result';
import type { HostParams } from '../engine/nn/params';
import type { ParamPath } from '../engine/paths/path';
import type { ProgressEvent } from '../engine/util/progress';
import { runRecipe } from '../engine/recipe/run';
import { isCounterexample } from '../engine/recipe/schema';
import { describeArch, parameterCount } from '../engine/nn/spec';
import type { CurvePoint } from '../engine/train/loop';
import { CancelledError } from '../engine/util/errors';
import { VERSION } from '../engine/version';
import { ArtifactStore } from '../store/artifacts';
import { storageError } from '../store/errors';
import type { RunEnvironment } from '../store/types';
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
  const env: RunEnvironment = {
    modelab: VERSION,
    backend: backend.backend,
    device: backend.device,
    tfjsVersion: backend.tfjsVersion,
    backendDetails: backend.details,
    seeds: { recipe: recipe.seed, endpoints: {}, evaluation: isCounterexample(recipe) ? undefined : recipe.evaluation.seed },
  };
  send({ type: 'environment', environment: env });

  // Curve points go out in small batches (at most every 250 ms) rather than one message each.
  const pending = new Map<string, CurvePoint[]>();
  let flushTimer: NodeJS.Timeout | null = null;
  const flush = (): void => {
    flushTimer = null;
    for (const [endpoint, points] of pending) if (points.length) send({ type: 'curve', endpoint, points: points.splice(0) });
  };
  const onCurve = (endpoint: string, point: CurvePoint): void => {
    let list = pending.get(endpoint);
    if (!list) pending.set(endpoint, (list = []));
    list.push(point);
    flushTimer ??= setTimeout(flush, 250);
  };

  const endpointIndex = (name: string): number => {
    const i = ('endpoints' in recipe ? recipe.endpoints : []).findIndex((e) => e.name === name);
    return i >= 0 ? i : seenEndpoints.size;
  };
  const seenEndpoints = new Set<string>();
  let pathIndex = 0;
  const hooks = {
    onProgress: (event: ProgressEvent) => send({ type: 'progress', event }),
    onEndpoint: (e: EndpointResult, params: HostParams) => {
      flush();
      const weights = artifacts.stage(endpointsSafetensors({ [e.name]: params }));
      send({ type: 'endpoint', index: endpointIndex(e.name), endpoint: e, weights });
      seenEndpoints.add(e.name);
    },
    onPath: (r: PathResult, p: ParamPath) => {
      const vertices = artifacts.stage(pathSafetensors(p));
      send({ type: 'path', index: pathIndex++, path: r, vertices });
    },
  };

  let inputShape: [number, number, number] | null = null;
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
    return isCounterexample(recipe)
      ? runCounterexample(recipe, {
          backend,
          preset,
          ...hooks,
          onEvaluationData: (sets) => {
            // The counterexample's data is tiny and generated: keep it with the run like any other.
            const h = recipe.width;
            send({ type: 'eval-data', data: artifacts.stage(evalDataSafetensors([1, 1, h + 2], sets)) });
          },
        })
      : runRecipe(recipe, {
          backend,
          preset,
          dataDir: job.dataDir,
          signal,
          pointWorkers,
          ...hooks,
          onSetup: ({ spec, data }) => {
            inputShape = data.inputShape;
            env.architecture = { spec, description: describeArch(spec), parameters: parameterCount(spec) };
            env.dataset = describeDataset(data);
            recipe.endpoints.forEach((e, i) => {
              env.seeds.endpoints[e.name] = endpointSeed(recipe, i);
            });
            send({ type: 'environment', environment: env });
          },
          onEvaluationData: (sets) => {
            if (env.dataset) {
              env.dataset.evalTrainSize = sets.train.n;
              env.dataset.evalTestSize = sets.test.n;
              send({ type: 'environment', environment: env });
            }
            send({ type: 'eval-data', data: artifacts.stage(evalDataSafetensors(inputShape!, sets)) });
          },
          onStability: (stability) => send({ type: 'stability', stability }),
          onPlane: (plane) => send({ type: 'plane', plane }),
          trainEndpoints: endpointTrainer({
            parallel: job.parallelEndpoints === 'auto' ? 'auto' : useParallelEndpoints(job.parallelEndpoints, recipe.endpoints.length),
            backend: backend.backend,
            dataset: recipe.dataset,
            dataDir: job.dataDir,
            tmpDir: artifacts.tmpDir,
            heartbeatMs: job.heartbeatMs,
            onCurve,
            launcher: helperLauncher,
            checkpoints: {
              artifactsDir: job.artifactsDir,
              onCheckpoint: (c) => {
                flush(); // the curve up to the checkpoint first
                send({ type: 'checkpoint', endpoint: c.endpoint, epoch: c.epoch, step: c.step, weights: c.weights });
              },
            },
          }),
        });
  }
}
