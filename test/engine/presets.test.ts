/**
 * Preset descriptions are the first text a new user reads: every segment count they quote for a theorem's path must
 * be the count the run builds and checks (issue 13 item 6: the smoke preset said 8d−4 = 12 where d = 3 gives 20).
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initParams } from '../../src-main/engine/nn/params';
import { hiddenWidths } from '../../src-main/engine/nn/units';
import { theoremSegments } from '../../src-main/engine/experiment/paths';
import { parseRecipe, resolveArchitecture } from '../../src-main/engine/recipe/resolve';
import { theorem1Path } from '../../src-main/engine/theory/theorem1';
import { useCpu } from '../theory/helpers';

const presetDir = path.resolve(__dirname, '../../resources/presets');
const trainingPresets = readdirSync(presetDir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(path.join(presetDir, f), 'utf8')) as { name: string; description: string; experiment?: string })
  .filter((doc) => doc.experiment === undefined);

/** "the Theorem 1 path (8d−4 = 20 segments …" / "the Theorem 2 path (10 segments" → [[1, 20], [2, 10]]. */
function quotedCounts(description: string): [number, number][] {
  return [...description.matchAll(/Theorem ([123]) path \((?:8d−4 = )?(\d+) segments/g)].map((m) => [Number(m[1]), Number(m[2])]);
}

describe('preset descriptions', () => {
  beforeAll(useCpu);

  it('quote segment counts in a form this test reads (no count escapes it)', () => {
    for (const doc of trainingPresets) {
      expect(doc.description.match(/\d+ segments/g)?.length ?? 0, doc.name).toBe(quotedCounts(doc.description).length);
    }
    expect(trainingPresets.some((d) => quotedCounts(d.description).length > 0)).toBe(true);
  });

  it.each(trainingPresets.map((d) => [d.name, d] as const))('%s: each quoted count is the count of the path the recipe builds', (_name, doc) => {
    const recipe = parseRecipe(doc, doc.name);
    // The depth does not depend on the input shape; CIFAR-10's (32×32×3, pooled 5 times by VGG-11) serves every preset.
    const spec = resolveArchitecture(recipe.architecture, [32, 32, 3], 10);
    const d = spec.layers.length;
    for (const [theorem, quoted] of quotedCounts(doc.description)) {
      const type = `theorem${theorem}` as 'theorem1' | 'theorem2' | 'theorem3';
      expect(recipe.paths.some((p) => p.type === type), `${doc.name} describes a ${type} path it does not build`).toBe(true);
      expect(quoted, `${doc.name}: ${type}`).toBe(theoremSegments(type, d));
      if (type === 'theorem1') {
        // Build the path itself on this architecture (random weights, the first half of every layer kept).
        const kept = hiddenWidths(spec).map((h) => Array.from({ length: Math.floor(h / 2) }, (_, u) => u));
        const built = theorem1Path(spec, initParams(spec, 1), kept, initParams(spec, 2), kept, kept.map(() => 2));
        expect(built.segments.length).toBe(quoted);
      }
    }
  });
});
