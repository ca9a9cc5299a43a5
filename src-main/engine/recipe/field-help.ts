/**
 * Each recipe field's help text, from the one place it is written: the `.describe()` of its schema. Walks the
 * schema along a recipe document (into the variant each discriminated section has chosen) and returns the text of
 * every field present, keyed by its path ("training.lr", "paths.1.perSegment"); the editor shows it under the field.
 */
import type { z } from 'zod';

/** What the walk reads of a zod 4 schema: its description and its definition. */
interface SchemaNode {
  readonly description?: string;
  readonly _zod: { readonly def: SchemaDef };
}
interface SchemaDef {
  readonly type: string;
  readonly innerType?: SchemaNode;
  readonly in?: SchemaNode;
  readonly shape?: Record<string, SchemaNode>;
  readonly element?: SchemaNode;
  readonly valueType?: SchemaNode;
  readonly options?: readonly SchemaNode[];
  readonly discriminator?: string;
  readonly values?: readonly unknown[];
}

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional']);

/** The schema under its wrappers (optional, default, a transform's input…) and the first description on the way. */
function unwrap(node: SchemaNode): { node: SchemaNode; description?: string } {
  let n = node;
  let description = n.description;
  for (;;) {
    const def = n._zod.def;
    const inner = WRAPPERS.has(def.type) ? def.innerType : def.type === 'pipe' ? def.in : undefined;
    if (!inner) return { node: n, ...(description ? { description } : {}) };
    n = inner;
    description ??= n.description;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** The variant of a union that a value takes: by its discriminator, else the first object variant with all its keys. */
function variant(options: readonly SchemaNode[], discriminator: string | undefined, value: unknown): SchemaNode | undefined {
  const objects = options.map((o) => unwrap(o).node).filter((o) => o._zod.def.type === 'object');
  if (!isObject(value)) return options.map((o) => unwrap(o).node).find((o) => o._zod.def.type === (Array.isArray(value) ? 'array' : 'object'));
  if (discriminator) {
    return objects.find((o) => {
      const tag = o._zod.def.shape?.[discriminator];
      return !!tag && !!unwrap(tag).node._zod.def.values?.includes(value[discriminator]);
    });
  }
  return objects.find((o) => Object.keys(value).every((k) => k in o._zod.def.shape!));
}

function child(node: SchemaNode, key: string | number): SchemaNode | undefined {
  const def = node._zod.def;
  if (def.type === 'object') return typeof key === 'string' ? def.shape![key] : undefined;
  if (def.type === 'array') return def.element;
  if (def.type === 'record') return def.valueType;
  return undefined;
}

function walk(schema: SchemaNode, value: unknown, path: (string | number)[], out: Record<string, string>): void {
  let { node, description } = unwrap(schema);
  if (node._zod.def.type === 'union') {
    const chosen = variant(node._zod.def.options ?? [], node._zod.def.discriminator, value);
    description ??= chosen?.description;
    if (!chosen) {
      if (description && path.length) out[path.join('.')] = description;
      return;
    }
    node = chosen;
  }
  if (description && path.length) out[path.join('.')] = description;
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : isObject(value) ? Object.entries(value) : [];
  for (const [k, v] of entries) {
    const c = child(node, k);
    if (c) walk(c, v, [...path, k], out);
  }
}

/** Help text of every field of `recipe` that its schema describes, by dotted path. */
export function fieldHelp(schema: z.ZodType, recipe: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  walk(schema as unknown as SchemaNode, recipe, [], out);
  return out;
}
