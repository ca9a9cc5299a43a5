/**
 * What a recipe will cost before anything is allocated: memory (parameters, optimiser state, activations per batch,
 * the dataset, path vertices and points) against the memory the machine has, and time from this machine's stored
 * bench figures (experiment/bench.ts). Pure: the caller gives the dataset's shape (data/shape.ts), the machine and the
 * figures. The numbers are estimates within a factor of about two; their job is to refuse what cannot fit and to say
 * whether a run takes seconds, minutes or hours.
 */
import type { BenchResult } from '../bench/record';
import type { DataShape } from '../data/shape';
import { type ArchSpec, forwardMacs, parameterCount } from '../nn/spec';
import { InputError } from '../util/errors';
import { stageKey } from './plan';
import { curveTrainConfig, pathName, resolveArchitecture, trainingFor, trainingWith } from './resolve';
import { type AnyRecipe, type PathConfig, type Recipe, isCounterexample } from './schema';

const FLOAT = 4;
/** Node, TensorFlow.js and the compiled kernels before any data: measured RSS of an idle job process is 250–300 MB. */
const BASE_BYTES = 300 * 2 ** 20;
/** One evaluated point as the run keeps it (t, train and test loss and accuracy, in JS objects). */
const POINT_BYTES = 200;

export interface Machine {
  /** Memory the machine has, in bytes (os.totalmem()). */
  memoryBytes: number;
  /** Cores: endpoints train side by side in up to this many processes. */
  cores: number;
}

export interface MemoryEstimate {
  /** Parameters of one network. */
  parameters: number;
  /** Bytes, by what holds them; `total` is their sum. */
  bytes: { base: number; dataset: number; training: number; activations: number; evaluation: number; paths: number; total: number };
  /** Endpoints that train at the same time (each in its own process with its own dataset copy). */
  parallelTrainings: number;
}

export interface StageEstimate {
  stage: string;
  label: string;
  /** Seconds on this machine. */
  seconds: number;
  /** How the number was made (steps × samples/s, points × samples…). */
  basis: string;
}

export interface TimeEstimate {
  stages: StageEstimate[];
  /** Wall time: the stages one after the other, except the endpoints' trainings, which run side by side in up to
   *  `cores` processes (as the job runner trains them). */
  seconds: number;
  /** The bench result the figures come from. */
  bench: { startedAt: string; backend: string; device: string; quick: boolean };
}

export interface RunEstimate {
  memory: MemoryEstimate;
  /** Training steps of each endpoint. */
  trainingSteps: Record<string, number>;
  /** Training and test samples every path point is evaluated on. */
  evaluationSamples: number;
  /** Path points in all, and points × evaluation samples. */
  pathPoints: number;
  pointSamples: number;
  /** Why it cannot run here (one line), or null when it fits. */
  refusal: string | null;
}

/** Activation values of one sample through the network: the input, and each hidden layer's output before pooling. */
function activationsPerSample(spec: ArchSpec): number {
  let [h, w] = spec.input;
  let total = spec.input[0] * spec.input[1] * spec.input[2];
  for (const l of spec.layers) {
    if (l.type === 'conv') {
      h = l.padding === 'same' ? Math.ceil(h / l.stride) : Math.floor((h - l.kernel) / l.stride) + 1;
      w = l.padding === 'same' ? Math.ceil(w / l.stride) : Math.floor((w - l.kernel) / l.stride) + 1;
      total += h * w * l.filters;
      if (l.pool) {
        h = Math.floor((h - l.pool.size) / l.pool.stride) + 1;
        w = Math.floor((w - l.pool.size) / l.pool.stride) + 1;
      }
    } else total += l.units;
  }
  return total;
}

/** Vertices a path holds as whole weight vectors, and the points it evaluates. */
function pathSize(p: PathConfig, depth: number): { vertices: number; points: number } {
  switch (p.type) {
    case 'linear':
    case 'dropout-line':
      return { vertices: 2, points: p.points };
    case 'aligned-linear':
      return { vertices: 3 + (p.curve ? p.curve.order + p.curve.bends : 0), points: p.curve ? p.curve.points : p.points };
    case 'bezier':
      return { vertices: p.order + 1, points: p.points };
    case 'polychain':
      return { vertices: p.bends + 2, points: p.points };
    case 'theorem1': {
      const segments = 8 * depth - 4;
      return { vertices: segments + 1, points: segments * p.perSegment + 1 };
    }
    case 'theorem2':
      return { vertices: 11, points: 10 * p.perSegment + 1 };
    case 'theorem3':
      return { vertices: 14, points: 13 * p.perSegment + 1 };
  }
}

const evalSamplesOf = (recipe: Recipe, data: DataShape): { train: number; test: number } => ({
  train: Math.min(recipe.evaluation.trainSamples ?? data.train, data.train),
  test: Math.min(recipe.evaluation.testSamples ?? data.test, data.test),
});

function stepsOf(cfg: { steps?: number; epochs?: number; batchSize: number }, n: number): number {
  return cfg.steps ?? Math.max(1, Math.round((cfg.epochs ?? 1) * Math.ceil(n / cfg.batchSize)));
}

/** Memory and work of a recipe on a dataset of this shape, and whether it fits the machine. */
export function estimateRun(recipe: Recipe, data: DataShape, machine: Machine): RunEstimate {
  const spec = resolveArchitecture(recipe.architecture, data.inputShape, data.classes);
  const parameters = parameterCount(spec);
  const features = data.inputShape[0] * data.inputShape[1] * data.inputShape[2];
  const perSample = activationsPerSample(spec);
  const ev = evalSamplesOf(recipe, data);

  const configs = recipe.endpoints.map((_, i) => trainingFor(recipe, i));
  const trainingSteps = Object.fromEntries(recipe.endpoints.map((e, i) => [e.name, stepsOf(configs[i]!, data.train)]));
  const slots = Math.max(...configs.map((c) => (c.optimizer.type === 'adam' ? 2 : c.optimizer.momentum > 0 ? 1 : 0)));
  const batch = Math.max(...configs.map((c) => c.batchSize));
  const parallelTrainings = Math.max(1, Math.min(recipe.endpoints.length, machine.cores));

  const datasetOnce = (data.train + data.test) * features * (FLOAT + data.rawBytesPerFeature);
  // Host copies of the weights (initial and trained), the variables, their gradients and the optimiser's slots.
  const trainingOnce = parameters * FLOAT * (4 + slots);
  // Each layer's output, its ReLU mask and its gradient, for one minibatch.
  const activationsOnce = batch * perSample * FLOAT * 3;
  const evaluation = (ev.train + ev.test) * features * FLOAT + recipe.evaluation.batchSize * perSample * FLOAT * 2 + recipe.endpoints.length * parameters * FLOAT;
  let pathPoints = 0;
  let pathBytes = 0;
  for (const p of recipe.paths) {
    const s = pathSize(p, spec.layers.length);
    pathPoints += s.points;
    pathBytes += s.vertices * parameters * FLOAT + s.points * POINT_BYTES;
  }
  if (recipe.plane) pathBytes += 3 * parameters * FLOAT + recipe.plane.size ** 2 * POINT_BYTES;

  const bytes = {
    base: BASE_BYTES,
    // The job process's copy, and one per training process beside it.
    dataset: datasetOnce * (1 + (parallelTrainings > 1 ? parallelTrainings : 0)),
    training: trainingOnce * parallelTrainings,
    activations: activationsOnce * parallelTrainings,
    evaluation,
    paths: pathBytes,
    total: 0,
  };
  bytes.total = bytes.base + bytes.dataset + bytes.training + bytes.activations + bytes.evaluation + bytes.paths;
  const memory: MemoryEstimate = { parameters, bytes, parallelTrainings };
  return {
    memory,
    trainingSteps,
    evaluationSamples: ev.train + ev.test,
    pathPoints,
    pointSamples: pathPoints * (ev.train + ev.test),
    refusal: bytes.total > machine.memoryBytes ? refusalLine(memory, machine) : null,
  };
}

/** Bytes in words: 812 MB, 3.1 GB, 2.4 TB (decimal units, as the machine's memory is usually quoted). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return 'more than can be counted';
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let u = 0;
  let v = n;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${Math.round(v)} bytes` : `${v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[u]}`;
}

function refusalLine(m: MemoryEstimate, machine: Machine): string {
  const b = m.bytes;
  const parts: [string, number][] = [
    [`parameters and optimiser state (${m.parameters.toExponential(2).replace('e+', 'e')} parameters${m.parallelTrainings > 1 ? ` × ${m.parallelTrainings} trainings` : ''})`, b.training],
    ['activations per batch', b.activations],
    ['dataset', b.dataset],
    ['evaluation', b.evaluation],
    ['path vertices and points', b.paths],
  ];
  const biggest = parts.sort((x, y) => y[1] - x[1]).slice(0, 2).filter(([, v]) => v > 0);
  return `this recipe needs about ${formatBytes(b.total)} of memory (${biggest.map(([k, v]) => `${k}: ${formatBytes(v)}`).join(', ')}); this machine has ${formatBytes(machine.memoryBytes)}`;
}

/** Throws the estimate's one-line refusal as an InputError when the recipe cannot fit. */
export function assertFits(estimate: RunEstimate): void {
  if (estimate.refusal) throw new InputError(estimate.refusal);
}

/** The figures a time estimate uses from a bench result. */
export type BenchFigures = Pick<BenchResult, 'startedAt' | 'backend' | 'device' | 'quick' | 'training' | 'lineEval' | 'theorem1Eval'>;

/** Multiply-accumulates of the bench's evaluation MLP (784-512-512-10, no biases): experiment/bench.ts. */
const BENCH_EVAL_MACS = 784 * 512 + 512 * 512 + 512 * 10;

/** A network like `spec` with every hidden layer `width` wide (the narrow networks of stability.narrow). */
function narrowSpec(spec: ArchSpec, width: number): ArchSpec {
  const last = spec.layers.length - 1;
  return { ...spec, layers: spec.layers.map((l, k) => (k === last ? l : l.type === 'conv' ? { ...l, filters: width } : { ...l, units: width })) };
}

/**
 * Seconds per stage from the bench's measured rates: training as steps × batch × 6·MACs over the training GFLOP/s
 * measured for the same family (MLP, MLP with dropout, CNN); evaluation as full passes × samples × 2·MACs over the
 * GFLOP/s of the bench's straight-line evaluation, a path's points costing the full passes per point the bench
 * measured (the line's for every path but Theorem 1's, whose function-preserving segments cost far less). Searches
 * (kept sets, Algorithm 1) count their evaluations; weight matching is not counted.
 */
export function estimateTime(recipe: Recipe, data: DataShape, figures: BenchFigures, cores = 1): TimeEstimate {
  const spec = resolveArchitecture(recipe.architecture, data.inputShape, data.classes);
  const macs = forwardMacs(spec);
  const hasDropout = spec.layers.some((l) => l.dropout > 0);
  const family = spec.layers.some((l) => l.type === 'conv') ? figures.training.cnn : hasDropout ? figures.training.mlpDropout : figures.training.mlp;
  const trainFlops = family.gflops * 1e9;
  const le = figures.lineEval;
  const evalFlops = (2 * BENCH_EVAL_MACS * le.samples * le.fullPassEquivalents) / le.seconds;
  const t1 = figures.theorem1Eval;
  const passesPerPoint = (p: PathConfig): number => (p.type === 'theorem1' ? t1.structured.fullPassEquivalents / t1.points : le.fullPassEquivalents / le.points);
  const ev = evalSamplesOf(recipe, data);
  const evalSamples = ev.train + ev.test;
  const trainSec = (steps: number, batch: number, m = macs): number => (steps * batch * 6 * m) / trainFlops;
  const evalSec = (samples: number, m = macs): number => (samples * 2 * m) / evalFlops;
  const rate = `${family.gflops.toFixed(1)} GFLOP/s (bench: ${family.architecture}, ${Math.round(family.samplesPerSec)} samples/s)`;

  const stages: StageEstimate[] = recipe.endpoints.map((e, i) => {
    const c = trainingFor(recipe, i);
    if (e.weights) return { stage: `train:${e.name}`, label: `load ${e.name}`, seconds: 0, basis: `read from ${e.weights}` };
    const steps = stepsOf(c, data.train);
    return { stage: `train:${e.name}`, label: `train ${e.name}`, seconds: trainSec(steps, c.batchSize), basis: `${steps} steps × ${c.batchSize} samples at ${rate}` };
  });
  stages.push({ stage: 'eval:endpoints', label: 'evaluate endpoints', seconds: evalSec(recipe.endpoints.length * evalSamples), basis: `${recipe.endpoints.length} × ${evalSamples} samples` });

  const st = recipe.stability;
  if (st) {
    let sec = 0;
    const what: string[] = [];
    const widths = spec.layers.length - 1;
    if (st.dropout) {
      sec += evalSec(recipe.endpoints.length * widths * (st.dropout.masks + (st.dropout.heuristic ? 1 : 0)) * st.dropout.searchSamples);
      what.push('kept-set search');
    }
    if (st.sweep) {
      sec += evalSec(recipe.endpoints.length * st.sweep.fractions.length * st.sweep.masks * ev.train);
      what.push('keep-fraction sweep');
    }
    if (st.narrow) {
      const c = trainingWith(recipe, st.narrow.training, ['stability', 'narrow', 'training']);
      const steps = stepsOf(c, data.train);
      for (const w of st.narrow.widths) sec += st.narrow.trials * trainSec(steps, c.batchSize, forwardMacs(narrowSpec(spec, w)));
      what.push(`${st.narrow.widths.length * st.narrow.trials} narrow trainings`);
    }
    if (st.noise) {
      sec += evalSec(recipe.endpoints.length * st.noise.iterations * st.noise.samples * widths * 2);
      what.push('noise stability');
    }
    stages.push({ stage: 'stability', label: 'stability', seconds: sec, basis: what.join(', ') || 'nothing asked' });
  }

  recipe.paths.forEach((p, i) => {
    const { points } = pathSize(p, spec.layers.length);
    const passes = points * passesPerPoint(p);
    let sec = evalSec(passes * evalSamples);
    let basis = `${points} points (${passes.toFixed(1)} full passes) × ${evalSamples} samples`;
    const curve = p.type === 'bezier' || p.type === 'polychain' ? p : p.type === 'aligned-linear' ? p.curve : undefined;
    if (curve) {
      const c = curveTrainConfig(curve);
      const steps = stepsOf(c, Math.min(c.trainSamples ?? data.train, data.train));
      sec += trainSec(steps, c.batchSize);
      basis += ` + curve training ${steps} steps × ${c.batchSize} samples`;
    }
    if (p.type === 'theorem1') {
      sec += evalSec(recipe.endpoints.length * (spec.layers.length - 1) * (p.dropout.masks + (p.dropout.heuristic ? 1 : 0)) * p.dropout.searchSamples);
      basis += ' + kept-set search';
    }
    if (p.type === 'theorem2' || p.type === 'theorem3') {
      sec += evalSec(2 * p.maxTries * p.checkPoints * p.searchSamples);
      basis += ` + Algorithm 1, up to ${p.maxTries} tries`;
    }
    if (p.type === 'theorem3') {
      const width = Array.isArray(p.narrow.width) ? Math.max(...p.narrow.width) : p.narrow.width;
      const c = trainingWith(recipe, p.narrow.training, ['narrow', 'training']);
      sec += trainSec(stepsOf(c, data.train), c.batchSize, forwardMacs(narrowSpec(spec, width)));
      basis += ' + narrow network training';
    }
    stages.push({ stage: stageKey.path(pathName(recipe, i)), label: pathName(recipe, i), seconds: sec, basis });
  });
  if (recipe.plane) {
    const pl = recipe.plane;
    const samples = Math.min(pl.trainSamples, ev.train) + Math.min(pl.testSamples, ev.test);
    stages.push({ stage: 'plane', label: 'loss plane', seconds: evalSec(pl.size ** 2 * samples), basis: `${pl.size}×${pl.size} grid × ${samples} samples` });
  }
  const trainings = stages.slice(0, recipe.endpoints.length).map((s) => s.seconds);
  const side = Math.max(1, Math.min(trainings.length, cores));
  const trainingWall = Math.max(...trainings) * Math.ceil(trainings.length / side);
  return {
    stages,
    seconds: trainingWall + stages.slice(recipe.endpoints.length).reduce((a, s) => a + s.seconds, 0),
    bench: { startedAt: figures.startedAt, backend: figures.backend, device: figures.device, quick: figures.quick },
  };
}

/** What the estimate says when this machine has no bench figures (the CLI and the app add how to get them). */
export const NO_TIMING_FIGURES = 'no timing figures yet';

/** The note for no bench figures of `backend` (the one the run gets): figures of another backend are never used. */
export function noTimingFiguresFor(backend: string | null): string {
  return backend === null ? `${NO_TIMING_FIGURES}: no backend is available` : `${NO_TIMING_FIGURES} for ${backend}, the backend this run gets`;
}

/** Seconds in words, as precise as an estimate deserves: 40 s, 12 min, 3.4 h, 2.1 days. */
export function roughDuration(sec: number): string {
  if (sec < 90) return `${Math.max(1, Math.round(sec))} s`;
  if (sec < 90 * 60) return `${Math.round(sec / 60)} min`;
  if (sec < 48 * 3600) return `${(sec / 3600).toFixed(1)} h`;
  return `${(sec / 86400).toFixed(1)} days`;
}

/** Everything known about a recipe before it runs: memory (null for the counterexample, and for a dataset whose
 *  shape is known only once loaded) and time (null without bench figures); `notes` says why a part is missing;
 *  `headline` is the two of them in words, as the CLI and the app show them. */
export interface RecipeEstimate {
  recipe: string;
  machine: Machine;
  resources: RunEstimate | null;
  time: TimeEstimate | null;
  notes: string[];
  headline: { memory: string | null; time: string | null };
}

function headline(machine: Machine, resources: RunEstimate | null, time: TimeEstimate | null): RecipeEstimate['headline'] {
  return {
    memory: resources ? `about ${formatBytes(resources.memory.bytes.total)} of this machine's ${formatBytes(machine.memoryBytes)}` : null,
    time: time ? `about ${roughDuration(time.seconds)} on ${time.bench.backend}` : null,
  };
}

/** `backend`: the one the run gets (null: none is available), which `figures` were measured on; named in a note when
 *  there are none. */
export function estimateRecipe(recipe: AnyRecipe, data: DataShape | null, machine: Machine, figures: BenchFigures | null, backend: string | null): RecipeEstimate {
  const notes: string[] = [];
  if (isCounterexample(recipe)) {
    notes.push('the Theorem 4 counterexample is a small fixed problem: not estimated');
    return { recipe: recipe.name, machine, resources: null, time: null, notes, headline: headline(machine, null, null) };
  }
  if (!data) {
    notes.push(`the ${recipe.dataset.name} dataset's shape is known only once it is loaded: not estimated`);
    return { recipe: recipe.name, machine, resources: null, time: null, notes, headline: headline(machine, null, null) };
  }
  if (!figures) notes.push(noTimingFiguresFor(backend));
  const resources = estimateRun(recipe, data, machine);
  const time = figures ? estimateTime(recipe, data, figures, machine.cores) : null;
  return { recipe: recipe.name, machine, resources, time, notes, headline: headline(machine, resources, time) };
}
