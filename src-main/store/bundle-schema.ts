/**
 * The JSON documents of a bundle (history.json, run.json), validated like api input: every field the history stores
 * has its type, length and form checked with the same rules as the api (store/run-fields.ts), and no JSON value
 * anywhere may be deeper than 64 levels, a number that is not finite (`1e999`), or a string with control characters.
 * Loaded only by import (zod is not needed to list or show runs).
 */
import { z } from 'zod';
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

const curvePoint = z.object({ step: z.number().int().min(0), epoch: z.number().min(0), lr: metric, loss: metric, acc: metric }).passthrough();

export const historyRecordSchema = z
  .object({
    format: z.literal('modelab.history/1'),
    id: z.string().regex(/^[0-9a-z]{16}$/, 'a run id (16 lowercase letters and digits)'),
    name,
    preset: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'a preset name').nullable(),
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
      })
      .passthrough()
      .nullable(),
    partialCurves: z.record(z.string().regex(ENDPOINT_NAME, 'an endpoint name'), z.array(curvePoint)),
    stability: object.nullable(),
    timings: z.record(z.string().max(200), z.number()).nullable(),
  })
  .strict();

const metrics = z.object({ loss: metric, acc: metric }).passthrough();

/** The parts of run.json the history stores in its own columns and tables; the rest is kept as it is. */
export const runDocumentSchema = z
  .object({
    schema: z.literal('modelab.run/1'),
    runId: z.string().regex(/^[0-9a-z]{16}$/).optional(),
    name: name,
    config: object,
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
          })
          .passthrough(),
      )
      .max(1000),
    plane: object.optional(),
    dataset: z.object({ inputShape: z.array(z.number().int().min(1)).optional() }).passthrough().nullable().optional(),
  })
  .passthrough();

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
