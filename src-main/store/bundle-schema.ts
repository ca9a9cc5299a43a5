/**
 * The JSON documents of a bundle (history.json, run.json), validated like api input: every field the history stores
 * has its type, length and form checked with the same rules as the api (store/run-fields.ts), and no JSON value
 * anywhere may be deeper than 64 levels, a number that is not finite (`1e999`), or a string with control characters.
 * Loaded only by import (zod is not needed to list or show runs).
 */
import { z } from 'zod';
import { CHECK_STATES } from '../engine/experiment/check-state';
import { runResultSchema } from '../engine/experiment/result-schema';
import { InputError } from '../engine/util/errors';
import { COLOUR_MESSAGE, COLOUR_RULE, CONTROL_CHARS, NAME_MAX, NAME_RULE, NOTES_MAX, TAG_MAX, TAG_MESSAGE, TAG_RULE } from './run-fields';
import { RUN_STATUSES } from './types';

/** Endpoint names (they become artifact roles and file names): the recipe's rule. */
export const ENDPOINT_NAME = /^[A-Za-z0-9_-]{1,100}$/;
/** Path names (they become `paths/<name>.safetensors`): the recipe's rule. */
export const PATH_NAME = /^[A-Za-z0-9_.-]{1,100}$/;

const MAX_DEPTH = 64;
const ERROR_MAX = 10_000;

const name = z.string().trim().min(1).max(NAME_MAX).regex(NAME_RULE, 'no control characters or line breaks');
const text = (max: number) => z.string().max(max).refine((s) => !CONTROL_CHARS.test(s), 'no control characters');
const date = z.iso.datetime({ offset: true });
/** A metric: JSON has no NaN, so a value that was not finite is stored as null. */
const metric = z.number().nullable();
const object = z.record(z.string(), z.unknown());

const curvePoint = z
  .object({ step: z.number().int().min(0), epoch: z.number().min(0), lr: metric, loss: metric, acc: metric, testLoss: metric.optional(), testAcc: metric.optional() })
  .passthrough();
/** The run document's own schema for the parts that hold no measured number (which a document writes as null when
 *  it was not finite, and the run document's schema types as a number): the architecture and the dataset record. */
const result = runResultSchema.shape;
const architecture = result.architecture;
/** The dataset record as the environment has it: its name and checksum from the run's setup, the rest once known. */
const datasetRecord = result.dataset.partial().required({ name: true, checksum: true });
const PRESET_NAME = /^[A-Za-z0-9_-]{1,100}$/;

export const historyRecordSchema = z
  .object({
    format: z.literal('modelab.history/1'),
    id: z.string().regex(/^[0-9a-z]{16}$/, 'a run id (16 lowercase letters and digits)'),
    name,
    preset: z.string().regex(PRESET_NAME, 'a preset name').nullable(),
    status: z.enum(RUN_STATUSES),
    createdAt: date,
    startedAt: date.nullable(),
    finishedAt: date.nullable(),
    error: text(ERROR_MAX).nullable(),
    tags: z.array(z.string().min(1).max(TAG_MAX).regex(TAG_RULE, TAG_MESSAGE).regex(NAME_RULE, 'no control characters')).max(100),
    notes: text(NOTES_MAX),
    colour: z.string().regex(COLOUR_RULE, COLOUR_MESSAGE).nullable(),
    config: object,
    environment: z
      .object({
        modelab: text(100),
        backend: text(100),
        device: text(1000),
        tfjsVersion: text(100),
        dataset: z.object({ name: text(200), checksum: text(200), inputShape: z.array(z.number().int().min(1)).optional() }).passthrough().optional(),
        architecture: architecture.optional(),
      })
      .passthrough()
      .nullable(),
    partialCurves: z.record(z.string().regex(ENDPOINT_NAME, 'an endpoint name'), z.array(curvePoint)),
    stability: object.nullable(),
    timings: z.record(z.string().max(200), z.number()).nullable(),
  })
  .strict();

const metrics = z.object({ loss: metric, acc: metric }).passthrough();
/** A path's barrier on one split: the history lists the loss over the interpolation of the ends. */
const splitBarrier = z.object({ lossOverInterpolation: z.object({ value: metric }).passthrough().optional() }).passthrough();

/** The parts of run.json the history stores in its own columns and tables; the rest is kept as it is. */
export const runDocumentSchema = z
  .object({
    schema: z.literal('modelab.run/1'),
    runId: z.string().regex(/^[0-9a-z]{16}$/).optional(),
    name: name,
    preset: z.string().regex(PRESET_NAME, 'a preset name').nullable().optional(),
    // A stored run that stopped early has null where it knew nothing yet (store/run-document.ts).
    modelab: text(100).nullable().optional(),
    startedAt: date.nullable().optional(),
    finishedAt: date.nullable().optional(),
    backend: text(100).nullable().optional(),
    device: text(1000).nullable().optional(),
    tfjsVersion: text(100).nullable().optional(),
    backendDetails: result.backendDetails.optional(),
    config: object,
    architecture: architecture.nullable().optional(),
    endpoints: z
      .array(
        z
          .object({
            name: z.string().regex(ENDPOINT_NAME, 'an endpoint name (letters, digits, _ and -)'),
            seed: z.number(),
            train: metrics,
            test: metrics,
            training: z.object({ curve: z.array(curvePoint) }).passthrough(),
          })
          .passthrough(),
      )
      .max(1000),
    paths: z
      .array(
        z
          .object({
            name: z.string().regex(PATH_NAME, 'a path name (letters, digits, _ . and -)'),
            kind: text(100),
            from: text(100),
            to: text(100),
            points: z.array(z.object({ t: z.number(), train: metrics, test: metrics }).passthrough()),
            check: z.object({ pass: z.boolean(), state: z.enum(CHECK_STATES).optional() }).passthrough().optional(),
            barrier: z.object({ train: splitBarrier.optional(), test: splitBarrier.optional() }).passthrough().optional(),
          })
          .passthrough(),
      )
      .max(1000),
    stability: object.optional(),
    plane: object.optional(),
    dataset: datasetRecord.nullable().optional(),
    timings: z.record(z.string().max(200), z.number()).optional(),
  })
  .passthrough();

/** history.json as its schema checked it. */
export type BundleHistoryRecord = z.infer<typeof historyRecordSchema>;
/** run.json as its schema checked it: what the history stores in columns typed, the rest kept as it is. */
export type BundleRunDocument = z.infer<typeof runDocumentSchema>;

/** Refuses JSON deeper than MAX_DEPTH, numbers that are not finite and strings with control characters. */
function checkValues(v: unknown, where: string, at: (string | number)[] = []): void {
  const place = (): string => (at.length ? ` at ${at.join('.')}` : '');
  if (at.length > MAX_DEPTH) throw new InputError(`${where}: nested deeper than ${MAX_DEPTH} levels${place()}`);
  if (typeof v === 'number' && !Number.isFinite(v)) throw new InputError(`${where}: a number that is not finite${place()}`);
  if (typeof v === 'string' && CONTROL_CHARS.test(v)) throw new InputError(`${where}: a string with control characters${place()}`);
  if (Array.isArray(v)) v.forEach((x, i) => checkValues(x, where, [...at, i]));
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (CONTROL_CHARS.test(k)) throw new InputError(`${where}: a key with control characters${place()}`);
      checkValues(x, where, [...at, k]);
    }
  }
}

/**
 * Checks a bundle's JSON document against `schema`; a failure is one line naming the file and the first bad field.
 * Returns the document as it was read (zod's output reorders keys, and import must keep the bytes of what it stores).
 */
export function parseDocument<S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  checkValues(value, where);
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const field = issue.path.length ? issue.path.join('.') : '(document)';
    const more = r.error.issues.length > 1 ? ` (and ${r.error.issues.length - 1} more)` : '';
    throw new InputError(`${where}: ${field}: ${issue.message}${more}`);
  }
  return value as z.infer<S>;
}
