/**
 * One home for atomic writes: a file the main side writes whole goes through writeFileAtomic (engine/io/atomic.ts:
 * temp file in the same folder, fsync, rename, the temp file removed on failure). The only other temp-then-rename
 * code is for output another writer produces: the bundle zip (a stream), the gradient bundle esbuild writes and a
 * weights file uploaded to the server (the request's stream).
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../src-main');
const STREAMED = ['store/bundle.ts', 'engine/backend/gradients.ts', 'server/server.ts'];

describe('atomic writes', () => {
  it('only engine/io/atomic.ts renames a temp file it wrote itself', () => {
    const renaming = readdirSync(SRC, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.ts'))
      .map((e) => path.join(e.parentPath, e.name))
      .filter((f) => /renameSync\(tmp\b/.test(readFileSync(f, 'utf8')))
      .map((f) => path.relative(SRC, f).split(path.sep).join('/'))
      .filter((f) => !STREAMED.includes(f));
    expect(renaming).toEqual(['engine/io/atomic.ts']);
  });
});
