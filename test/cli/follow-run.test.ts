/** `modelab run` prints what the fold of the run's events tells: the progress lines and, at the end, the summary. */
import { describe, expect, it } from 'vitest';
import { RunFollower } from '../../src-main/cli/follow-run';
import { ProgressRenderer } from '../../src-main/cli/progress';
import { runSummary } from '../../src-main/cli/summary';
import { selectBackend } from '../../src-main/engine/backend/backends';
import { runAnyRecipe } from '../../src-main/engine/experiment/run-any';
import { parseAnyRecipe } from '../../src-main/engine/recipe/resolve';

function sink(): { out: NodeJS.WriteStream; text: () => string } {
  let buf = '';
  const out = { columns: 200, write: (s: string) => ((buf += s), true) } as unknown as NodeJS.WriteStream;
  return { out, text: () => buf };
}

describe('RunFollower', () => {
  it("prints each stage's progress as told and the summary of the run's fold, the document's own", async () => {
    const s = sink();
    const follower = new RunFollower(new ProgressRenderer(s.out, false));
    const recipe = parseAnyRecipe({ experiment: 'counterexample', name: 'c', width: 2, points: 5, curves: { steps: 20 } }, 'recipe');
    const doc = await runAnyRecipe(recipe, { backend: await selectBackend('cpu'), onEvent: (e) => follower.apply(e) });
    follower.finishLine();
    expect(s.text()).toMatch(/^trained curves\s+100%\s+2\/2 curves/m);
    expect(follower.summary()).toBe(runSummary(doc));
    expect(follower.checkpoints).toBe(0);
  });

  it('a run whose events stopped before the end has no summary to print', () => {
    const follower = new RunFollower(new ProgressRenderer(sink().out, false));
    follower.apply({ kind: 'progress', progress: { stage: 'train:A', label: 'train A', done: 1, total: 2, unit: 'steps', elapsedSec: 1 } });
    expect(() => follower.summary()).toThrow(/internal: the run ended without/);
  });
});
