/**
 * docs/run-json.schema.json is generated from the run document's zod schemas (engine/experiment/result-schema.ts) by
 * `npm run schema`: the checked-in file must be exactly what the code generates now.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';
import { runDocumentJsonSchema, runDocumentJsonSchemaText } from '../../src-main/engine/experiment/result-schema';

const file = path.join(__dirname, '..', '..', 'docs', 'run-json.schema.json');

describe('docs/run-json.schema.json', () => {
  it('is what `npm run schema` generates from the code (run it after changing the run document)', () => {
    expect(readFileSync(file, 'utf8') === runDocumentJsonSchemaText(), 'docs/run-json.schema.json is stale: run `npm run schema`').toBe(true);
  });

  it('compiles with the ajv the document tests use, and keeps the hand-checked constraints', () => {
    const schema = runDocumentJsonSchema() as {
      properties: Record<string, { required?: string[] }>;
      definitions: Record<string, { properties: Record<string, { type?: unknown }> }>;
    };
    expect(() => new Ajv({ allErrors: true, allowUnionTypes: true }).compile(schema)).not.toThrow();
    // A measured number admits null (JSON.stringify's NaN/±∞); a count does not.
    expect(schema.definitions['metrics']!.properties['loss']!.type).toEqual(['number', 'null']);
    expect(schema.definitions['pathCost']!.properties['distinctFunctions']!.type).toBe('integer');
    expect(schema.properties['timings']!.required).toEqual(['total']);
  });
});
