/**
 * Writes docs/run-json.schema.json from the run document's zod schemas (src-main/engine/experiment/result-schema.ts):
 * `npm run schema`. test/recipe/run-json-schema.test.ts fails when the checked-in file differs from this output.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runDocumentJsonSchemaText } from '../src-main/engine/experiment/result-schema';

const target = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'run-json.schema.json');
writeFileSync(target, runDocumentJsonSchemaText());
console.log(`wrote ${path.relative(process.cwd(), target)}`);
