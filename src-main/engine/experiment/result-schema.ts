/**
 * The run document (`RunResult`, result.ts) as zod schemas: `scripts/write-schema.ts` emits docs/run-json.schema.json
 * from them (`npm run schema`), and a compile-time check below keeps them and the TypeScript types equal, so the
 * schema cannot drift from what the code writes. The recipe part is the recipe schema itself (schema.ts).
 *
 * JSON.stringify writes a number that is not finite (the loss of a diverged network) as null: every measured quantity
 * is a `measured` number, which the JSON Schema admits as null too (runDocumentJsonSchema).
 */
import { z } from 'zod';
import { KNOWN_BACKEND_NAMES } from '../backend/names';
import { CHECK_STATES } from './check-state';
import type { PathResult, RunResult } from './result';
import { RUN_SCHEMA } from './result';
import { counterexampleRecipeSchema, recipeSchema, trainingSchema } from '../recipe/schema';

/** Numbers the JSON Schema also admits as null (they were NaN or infinite when written). */
const measuredNumbers = z.registry();
/** A measured number (null in JSON when it was not finite). Register the finished schema: a refinement or a
 *  description after it makes a new schema that the registry does not know. */
const measured = (s: z.ZodNumber = z.number()): z.ZodNumber => s.register(measuredNumbers, {});

const count = z.number().int().nonnegative();
const positiveCount = z.number().int().positive();
const seconds = measured(z.number().nonnegative());
const fraction = measured(z.number().min(0).max(1));
const endpointName = z.string().regex(/^[A-Za-z0-9_-]+$/);
const pathName = z.string().regex(/^[A-Za-z0-9_.-]+$/);
const isoTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/)
  .describe('UTC time, ISO 8601 (Date.toISOString).');
const kept = z.array(z.array(count)).describe('Kept units per hidden layer.');

const metrics = z
  .object({
    loss: measured(z.number().describe('Mean softmax cross-entropy (nats).')),
    acc: measured(z.number().min(0).max(1).describe('Fraction classified correctly (arg-max).')),
  })
  .strict()
  .meta({ id: 'metrics' });

const curvePoint = z
  .object({
    step: positiveCount,
    epoch: z.number().positive(),
    lr: z.number().nonnegative(),
    loss: measured(),
    acc: fraction,
    testLoss: measured().optional().describe('Endpoint training: loss on a fixed test subsample at this point (absent before, and for BatchNorm networks).'),
    testAcc: fraction.optional(),
  })
  .strict()
  .meta({ id: 'curvePoint' });

const endpointResult = z
  .object({
    name: endpointName,
    seed: count,
    train: metrics,
    test: metrics,
    training: z.object({ steps: count, samples: count, seconds, samplesPerSec: measured(), curve: z.array(curvePoint) }).strict(),
  })
  .strict()
  .meta({ id: 'endpointResult' });

const segment = z
  .object({ from: count, to: count, kind: z.enum(['line', 'a', 'b', 'c', 'curve']), label: z.string().optional() })
  .strict()
  .meta({ id: 'segment' });

const pathPoint = z.object({ t: fraction, train: metrics, test: metrics }).strict().meta({ id: 'pathPoint' });

const barrierValue = z.object({ value: measured(), t: fraction }).strict().meta({ id: 'barrierValue' });
const splitBarrier = z
  .object({
    lossOverInterpolation: barrierValue.describe('max_t L(t) − [(1−t)·L(0) + t·L(1)]'),
    lossOverEndpointMean: barrierValue.describe('max_t L(t) − ½[L(0) + L(1)]'),
    errorOverInterpolation: barrierValue.describe('max_t e(t) − [(1−t)·e(0) + t·e(1)]'),
    errorOverEndpointMean: barrierValue.describe('max_t e(t) − ½[e(0) + e(1)]'),
    maxLoss: barrierValue,
    maxError: barrierValue,
  })
  .strict()
  .meta({ id: 'splitBarrier' });
const barrier = z.object({ train: splitBarrier, test: splitBarrier }).strict().meta({ id: 'barrier' });

const pathCost = z
  .object({ fullPassEquivalents: measured(z.number().nonnegative()), naive: measured(z.number().nonnegative()), distinctFunctions: count, pointwise: count })
  .strict()
  .meta({ id: 'pathCost' });

const diffCheck = { maxAbsDiff: measured(), maxRelDiff: measured(), tolerance: z.number().nonnegative(), pass: z.boolean() };

const lossBoundCheck = z
  .object({
    maxTrainLoss: measured(),
    t: fraction,
    bound: measured(),
    epsilon: measured(),
    formula: z.string(),
    pass: z.boolean(),
    over: z.string().optional(),
  })
  .strict();

const algorithm1SegmentsCheck = z
  .object({
    tolerance: z.number().nonnegative(),
    segments: z.array(
      z
        .object({
          endpoint: endpointName,
          loss: measured(),
          maxLoss: measured(),
          t: fraction,
          excess: measured(),
          withinTolerance: z.boolean(),
          theoryScale: measured().nullable(),
        })
        .strict(),
    ),
    theory: z.string(),
    state: z.enum(['pass', 'warning']),
  })
  .strict();

const pathCheck = z
  .object({
    state: z.enum(CHECK_STATES).optional().describe('The verdict: pass, warning (a measured Õ(ε) quantity over the tolerance), or fail. Absent in documents from before it.'),
    pass: z.boolean().describe("state === 'pass'."),
    endpoints: z.object({ startsAtA: z.boolean(), endsAtB: z.boolean() }).strict(),
    segmentCount: z.object({ expected: count, actual: count, pass: z.boolean() }).strict(),
    functionPreserving: z.object({ segments: count, ...diffCheck }).strict(),
    topLayerOnly: z
      .object({ segments: count, violations: z.array(z.string()), affineMaxRelDiff: measured(), tolerance: z.number().nonnegative(), pass: z.boolean() })
      .strict(),
    lossBound: lossBoundCheck.optional(),
    algorithm1Segments: algorithm1SegmentsCheck.optional(),
    endFunction: z.object({ vertex: z.string(), ...diffCheck }).strict().optional(),
    theorem4: z.object({ maxLoss: measured(), t: fraction, pass: z.boolean() }).strict().optional(),
  })
  .strict()
  .meta({ id: 'pathCheck' });

// --- PathResult.construction, by path kind (construction.ts) ---

const renormalize = z.enum(['none', 'repair']).describe('Per-point renormalisation along the path: none, or REPAIR.');

const optimizerConfig = z.discriminatedUnion('type', [
  z.object({ type: z.literal('sgd'), lr: z.number(), momentum: z.number(), nesterov: z.boolean(), weightDecay: z.number() }).strict(),
  z.object({ type: z.literal('adam'), lr: z.number(), beta1: z.number(), beta2: z.number(), epsilon: z.number(), weightDecay: z.number() }).strict(),
]);
const scheduleConfig = z.discriminatedUnion('type', [
  z.object({ type: z.literal('constant') }).strict(),
  z.object({ type: z.literal('step'), every: z.number(), factor: z.number() }).strict(),
  z.object({ type: z.literal('cosine'), minLr: z.number() }).strict(),
  z.object({ type: z.literal('inverse-time'), decay: z.number() }).strict(),
]);

const trainedCurve = z
  .object({
    curve: z.discriminatedUnion('type', [
      z.object({ type: z.literal('bezier'), order: positiveCount, freeControlPoints: count }).strict(),
      z.object({ type: z.literal('polychain'), bends: positiveCount }).strict(),
    ]),
    training: z
      .object({
        optimizer: optimizerConfig,
        weightDecayOnCurvePoint: z.number(),
        schedule: scheduleConfig,
        batchSize: positiveCount,
        epochs: z.number().nullable(),
        trainSamples: positiveCount.nullable(),
        steps: count,
        samples: count,
        seconds,
        samplesPerSec: measured(),
        log: z.array(curvePoint),
        init: z.string(),
      })
      .strict(),
    renormalize,
  })
  .strict()
  .meta({ id: 'trainedCurveConstruction' });

const counterexampleCurve = z
  .object({ steps: positiveCount, lr: z.number().positive(), bend: metrics })
  .strict()
  .meta({ id: 'counterexampleCurveConstruction' });

const alignment = z
  .object({
    method: z.string(),
    iterations: count,
    converged: z.boolean(),
    objective: z
      .object({
        before: measured(),
        after: measured(),
        perLayer: z.array(z.object({ before: measured(), after: measured() }).strict()).optional(),
      })
      .strict(),
    moved: z.array(fraction),
    seconds,
    lapSeconds: seconds,
    samples: positiveCount.optional().describe('Activation matching: the training samples correlated.'),
    permutation: z.array(z.array(count)),
    permutedEndFunction: z.object(diffCheck).strict(),
    barrierBefore: z.object({ source: z.string(), barrier }).strict(),
  })
  .strict()
  .meta({ id: 'alignment' });

const theorem1 = z
  .object({
    foldedBatchNorm: z
      .object({ note: z.string(), outputDiff: z.record(z.string(), z.object({ maxAbsDiff: measured(), maxRelDiff: measured() }).strict()) })
      .strict()
      .nullable()
      .describe('A BatchNorm network’s path is built between its BN-folded endpoints; null without BatchNorm.'),
    keepFraction: z.number(),
    r: z.number(),
    epsilon: z.record(z.string(), measured()),
    kept: z.record(z.string(), kept),
    keptSizes: z.array(count),
    chosen: z.record(z.string(), z.enum(['random', 'importance'])),
    dropoutStable: z.string(),
  })
  .strict()
  .meta({ id: 'theorem1Construction' });

const theorem23 = z
  .object({
    p: z.number(),
    tolerance: z.number(),
    algorithm1: z.record(
      z.string(),
      z
        .object({ tries: count, toleranceMet: z.boolean(), lineExcessOnSearch: measured(), droppedFraction: z.array(fraction), kept })
        .strict(),
    ),
    narrow: z
      .object({ widths: z.array(positiveCount), train: metrics, test: metrics, slots: z.array(z.array(count)) })
      .strict()
      .optional()
      .describe('Theorem 3: the narrow network θ* and the slots it is embedded in.'),
    algorithm1Loss: z.record(z.string(), measured()),
  })
  .strict()
  .meta({ id: 'theorem23Construction' });

const dropoutLine = z
  .object({
    p: z.number(),
    scale: z.string(),
    keptSizes: z.array(count),
    tries: count,
    minAcc: z.number(),
    accepted: z.boolean(),
    searchAcc: fraction,
    kept,
  })
  .strict()
  .meta({ id: 'dropoutLineConstruction' });

/** What every path kind records. The one home of these fields: PathResult's TypeScript type is derived from it
 *  (result.ts), so a new per-path number is written here once, with its description. */
const pathBase = {
  name: pathName,
  from: endpointName,
  to: endpointName,
  segments: z.array(segment).min(1),
  points: z.array(pathPoint).min(2),
  barrier,
  /** Forward passes the evaluation used against the naive count. */
  cost: pathCost,
  check: pathCheck,
};

/** The fields every evaluated path has, whatever its kind (PathResult = PathResultBase & its construction). */
export type PathResultBase = z.output<z.ZodObject<typeof pathBase>>;

const pathResult = z
  .union([
    z.object({ ...pathBase, kind: z.literal('linear'), construction: z.object({ renormalize }).strict() }).strict(),
    z.object({ ...pathBase, kind: z.enum(['bezier', 'polychain']), construction: z.union([trainedCurve, counterexampleCurve]) }).strict(),
    z.object({ ...pathBase, kind: z.literal('aligned-linear'), construction: z.object({ alignment, renormalize }).strict() }).strict(),
    z
      .object({ ...pathBase, kind: z.enum(['aligned-bezier', 'aligned-polychain']), construction: trainedCurve.extend({ alignment }).strict() })
      .strict(),
    z.object({ ...pathBase, kind: z.literal('theorem1'), construction: theorem1 }).strict(),
    z.object({ ...pathBase, kind: z.enum(['theorem2', 'theorem3']), construction: theorem23 }).strict(),
    z.object({ ...pathBase, kind: z.literal('dropout-line'), construction: dropoutLine }).strict(),
  ])
  .meta({ id: 'pathResult', description: 'An evaluated path: `kind` names the construction and types its `construction` (docs/run-json.md).' });

// --- stability ---

const droppedNet = z.object({ i: positiveCount, train: metrics, excess: measured() }).strict();

const dropoutStability = z
  .object({
    keepFraction: z.number(),
    r: z.number(),
    base: metrics,
    epsilon: measured(),
    perLayer: z.array(droppedNet),
    kept,
    chosen: z.enum(['random', 'importance']),
    candidates: z.array(z.object({ source: z.enum(['random', 'importance']), epsilon: measured() }).strict()),
    searchSamples: count,
  })
  .strict()
  .meta({ id: 'dropoutStability' });

const distribution = z
  .object({
    n: count,
    infinite: count,
    min: measured(),
    p05: measured(),
    median: measured(),
    p95: measured(),
    max: measured(),
    mean: measured(),
    histogram: z.object({ edges: z.array(measured()), counts: z.array(count) }).strict(),
  })
  .strict()
  .meta({ id: 'distribution' });

const noiseStability = z
  .object({
    samples: count,
    p: z.number(),
    ts: z.array(z.number()),
    iterations: count,
    layers: z.array(
      z
        .object({
          layer: positiveCount,
          kind: z.enum(['dense', 'conv']),
          layerCushion: distribution,
          interlayerCushion: distribution,
          activationContraction: distribution.optional(),
          interlayerSmoothness: distribution.optional(),
          smoothnessAtLeast3d: fraction.optional(),
        })
        .strict(),
    ),
    definition4: z
      .object({
        beta: z.number(),
        c: measured(),
        d: count,
        maxOutputNorm: measured(),
        hMin: count,
        minCushionProduct: measured(),
        epsilon: measured(),
      })
      .strict(),
  })
  .strict()
  .meta({ id: 'noiseStability' });

const meanStd = z.object({ mean: measured(), std: measured() }).strict().meta({ id: 'meanStd' });

const stabilityReport = z
  .object({
    dropout: z.record(z.string(), dropoutStability).optional(),
    sweep: z
      .object({
        masks: count,
        points: z.array(
          z.object({ keepFraction: z.number(), loss: meanStd, acc: meanStd, perEndpoint: z.record(z.string(), metrics) }).strict(),
        ),
      })
      .strict()
      .optional(),
    noise: z.record(z.string(), noiseStability).optional(),
    narrow: z
      .object({
        trials: count,
        points: z.array(
          z
            .object({
              width: positiveCount,
              loss: meanStd,
              acc: meanStd,
              testAcc: meanStd,
              trials: z.array(z.object({ seed: count, train: metrics, test: metrics }).strict()),
            })
            .strict(),
        ),
      })
      .strict()
      .optional(),
  })
  .strict()
  .meta({ id: 'stabilityReport' });

// --- plane ---

const grid = z.array(z.array(measured()));
const planeSurface = z.object({ loss: grid, acc: grid }).strict();

const planeResult = z
  .object({
    points: z.array(
      z
        .object({ role: z.enum(['origin', 'axis', 'third']), label: z.string(), x: measured(), y: measured(), train: metrics, test: metrics })
        .strict(),
    ),
    third: z.object({ path: pathName, vertex: count }).strict(),
    basis: z.object({ lengthAB: measured(), thirdAlong: measured(), thirdAcross: measured() }).strict(),
    grid: z.object({ size: positiveCount, margin: z.number().nonnegative(), xs: z.array(measured()), ys: z.array(measured()) }).strict(),
    train: planeSurface,
    test: planeSurface,
    paths: z.array(
      z
        .object({ name: pathName, t: z.array(fraction), x: z.array(measured()), y: z.array(measured()), offPlane: z.array(measured()) })
        .strict(),
    ),
    samples: z.object({ train: count, test: count }).strict(),
    batchNorm: z.enum(['recomputed', 'interpolated', 'none']),
    cost: z.object({ points: count, fullPassEquivalents: measured(), factored: z.boolean() }).strict(),
    seconds,
  })
  .strict()
  .meta({ id: 'planeResult', description: 'The 2D loss plane through three networks (docs/run-json.md "plane").' });

// --- the run ---

const shape3 = z.tuple([positiveCount, positiveCount, positiveCount]).describe('[height, width, channels].');

const layerSpec = z.discriminatedUnion('type', [
  z
    .object({ type: z.literal('dense'), units: positiveCount, bias: z.boolean(), dropout: z.number().min(0).lt(1), batchNorm: z.boolean().optional() })
    .strict(),
  z
    .object({
      type: z.literal('conv'),
      filters: positiveCount,
      kernel: positiveCount,
      stride: positiveCount,
      padding: z.enum(['same', 'valid']),
      bias: z.boolean(),
      pool: z.object({ size: positiveCount, stride: positiveCount }).strict().nullable(),
      dropout: z.number().min(0).lt(1),
      batchNorm: z.boolean().optional(),
    })
    .strict(),
]);

const normalization = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none') }).strict(),
  z.object({ kind: z.literal('scale'), scale: z.number() }).strict(),
  z.object({ kind: z.literal('standardize'), mean: z.array(z.number()), std: z.array(z.number()), scale: z.number() }).strict(),
]);

export const runResultSchema = z
  .object({
    schema: z.literal(RUN_SCHEMA).describe('Document format and version.'),
    modelab: z.string().regex(/^\d+\.\d+\.\d+/).describe('ModeLab version that produced the document.'),
    name: z.string().min(1).describe("The recipe's name."),
    preset: z.string().nullable().describe('The preset run (--preset), or null for a --config file.'),
    startedAt: isoTime,
    finishedAt: isoTime,
    backend: z.enum(KNOWN_BACKEND_NAMES),
    device: z.string(),
    tfjsVersion: z.string(),
    backendDetails: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).describe('Backend-specific facts (cpu model, simd, threads, adapter.*).'),
    config: z.union([recipeSchema, counterexampleRecipeSchema]).describe('The recipe as run, defaults filled in.'),
    architecture: z
      .object({
        spec: z.object({ input: shape3, layers: z.array(layerSpec).min(1) }).strict(),
        description: z.string().min(1),
        parameters: positiveCount.describe('Number of scalar parameters of one network.'),
      })
      .strict(),
    dataset: z
      .object({
        name: z.string().min(1),
        source: z.string().min(1),
        checksum: z.string().regex(/^[0-9a-f]{64}$/).describe('sha256 of the source bytes (and subset choice).'),
        normalization,
        inputShape: shape3,
        classes: positiveCount.describe('Logits per sample (1 for the counterexample’s single regression output).'),
        trainSize: positiveCount,
        testSize: positiveCount,
        evalTrainSize: positiveCount,
        evalTestSize: positiveCount,
      })
      .strict(),
    endpoints: z.array(endpointResult),
    stability: stabilityReport.optional(),
    paths: z.array(pathResult),
    plane: planeResult.optional(),
    timings: z
      .record(z.string().regex(/^(data|total|eval:endpoints|stability|plane|train:[A-Za-z0-9_-]+|path:[A-Za-z0-9_.-]+)$/), z.number().nonnegative())
      // `total` is always written; the type keeps a plain record, so the JSON Schema alone says so.
      .meta({ required: ['total'] })
      .describe('Wall-clock seconds per stage: data, train:<endpoint>, eval:endpoints, stability, path:<path>, plane, and total (always present).'),
  })
  .strict();

/** What a printed or written document may add to RunResult: the history's id, and a run's end when it did not finish
 *  (docs/run-json.md: such a document need not meet a finished run's requirements). */
export const runDocumentSchema = runResultSchema
  .extend({
    runId: z.string().regex(/^[0-9a-hjkmnp-tv-z]{16}$/).optional().describe('The run’s id in the local experiment history (docs/history.md); absent with --no-store.'),
    status: z.enum(['failed', 'crashed']).optional().describe('Only for a stored run that did not finish (exit code 1): how it ended.'),
    error: z.string().nullable().optional().describe('With status: why the run ended.'),
  })
  .strict();

// The schema and the types are one: each must be assignable to the other, as they are (a field required on one side and
// optional or absent on the other fails) and with every field made required at every depth (an optional field present
// on one side only fails too: plain assignability lets it through).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type DeepRequired<T> = T extends (infer U)[] ? DeepRequired<U>[] : T extends object ? { [K in keyof T]-?: DeepRequired<T[K]> } : T;
type SameDeep<A, B> = Same<A, B> extends true ? Same<DeepRequired<A>, DeepRequired<B>> : false;
const schemaMatchesRunResult: SameDeep<z.output<typeof runResultSchema>, RunResult> = true;
const schemaMatchesPathResult: SameDeep<z.output<typeof pathResult>, PathResult> = true;
void schemaMatchesRunResult;
void schemaMatchesPathResult;

/** The JSON Schema of the run document, as docs/run-json.schema.json holds it (draft-07: what the tests' ajv reads). */
export function runDocumentJsonSchema(): Record<string, unknown> {
  const json = z.toJSONSchema(runDocumentSchema, {
    target: 'draft-7',
    io: 'output',
    override: (ctx) => {
      if (measuredNumbers.has(ctx.zodSchema) && ctx.jsonSchema.type === 'number') ctx.jsonSchema.type = ['number', 'null'];
      // The recipe's "epochs or steps, not both" is a refinement, which JSON Schema cannot read from the code.
      if (ctx.zodSchema === trainingSchema) ctx.jsonSchema.not = { required: ['epochs', 'steps'] };
    },
  });
  return {
    $schema: json.$schema,
    $id: 'https://modelab.invalid/schemas/run-json.schema.json',
    title: `ModeLab run document (${RUN_SCHEMA})`,
    description:
      'Generated from src-main/engine/experiment/result-schema.ts by `npm run schema`; do not edit. The document `modelab run --json` prints on stdout and `modelab run --out DIR` writes to DIR/run.json (RunResult in src-main/engine/experiment/result.ts). Human documentation: docs/run-json.md. Numbers that are not finite (NaN, ±Infinity, e.g. the loss of a diverged network) are written as null by JSON.stringify, so every measured quantity admits null.',
    ...Object.fromEntries(Object.entries(json).filter(([k]) => k !== '$schema')),
  };
}

/** docs/run-json.schema.json's text: the JSON Schema, two-space indented, with a final newline. */
export function runDocumentJsonSchemaText(): string {
  return `${JSON.stringify(runDocumentJsonSchema(), null, 2)}\n`;
}
