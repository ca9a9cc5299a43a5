/**
 * The code cites the paper by its arXiv number and section (arXiv:1906.06247 §3, Lemma 2), never a file outside the
 * repository (the reference digest or the design notes a reader of the repository does not have).
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
// Spelled in parts so that this file does not cite them itself.
const OUTSIDE = [['paper', 'md'], ['DESIGN', 'md']].map((p) => p.join('.'));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|vue)$/.test(e.name))
    .map((e) => path.join(e.parentPath, e.name));
}

describe('paper citations', () => {
  it('no source or test file cites a file outside the repository', () => {
    const files = ['src-main', 'src-renderer/src', 'test'].flatMap((d) => sources(path.join(root, d)));
    expect(files.length).toBeGreaterThan(100);
    const offending = files.flatMap((f) => {
      const text = readFileSync(f, 'utf8');
      return OUTSIDE.filter((name) => text.includes(name)).map((name) => `${path.relative(root, f)}: ${name}`);
    });
    expect(offending).toEqual([]);
  });
});
