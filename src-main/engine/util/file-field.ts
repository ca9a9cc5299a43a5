/**
 * Marks the recipe fields that name a file or folder on this machine (endpoint weights, dataset folders and files),
 * so that the list of such fields the engine walks (recipe/files.ts) can be checked against the schema itself: a test
 * finds every marked string in the recipe schema and compares (test/engine/recipe-files.test.ts).
 */
import type { z } from 'zod';

const marked = new WeakSet<z.ZodType>();

/** `schema`, marked as naming a file or folder (relative paths: recipe/files.ts says against what). */
export function fileField<T extends z.ZodString>(schema: T): T {
  marked.add(schema);
  return schema;
}

export const isFileField = (schema: z.ZodType): boolean => marked.has(schema);
