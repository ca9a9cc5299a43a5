/** The progress renderer with stages that run at the same time (the two endpoint trainings of a job). */
import { describe, expect, it } from 'vitest';
import { ProgressRenderer } from '../../src-main/cli/progress';
import type { ProgressEvent } from '../../src-main/engine/util/progress';

function sink(): { out: NodeJS.WriteStream; text: () => string } {
  let buf = '';
  const out = { columns: 200, write: (s: string) => ((buf += s), true) } as unknown as NodeJS.WriteStream;
  return { out, text: () => buf };
}

const ev = (stage: string, done: number, total = 100): ProgressEvent => ({ stage, label: stage.replace(':', ' '), done, total, unit: 'steps', elapsedSec: done / 10, etaSec: (total - done) / 10 });

describe('ProgressRenderer', () => {
  it('without a terminal: a line per 10% per stage, interleaved stages included', () => {
    const s = sink();
    const r = new ProgressRenderer(s.out, false);
    for (let d = 1; d <= 100; d++) {
      r.update(ev('train:A', d));
      r.update(ev('train:B', d));
    }
    const lines = s.text().trimEnd().split('\n');
    expect(lines.filter((l) => l.startsWith('train A'))).toHaveLength(11);
    expect(lines.filter((l) => l.startsWith('train B'))).toHaveLength(11);
    expect(lines.filter((l) => /done in/.test(l))).toHaveLength(2);
  });

  it('on a terminal: one live line for all active stages, a final line per finished stage', () => {
    const s = sink();
    const r = new ProgressRenderer(s.out, true);
    r.update(ev('train:A', 1));
    r.update(ev('train:B', 1));
    expect(s.text()).toMatch(/train A\s+1%.*│.*train B\s+1%/);
    r.update(ev('train:A', 100));
    r.update(ev('train:B', 100));
    r.update(ev('path:linear', 5, 10));
    r.finishLine();
    const finals = s.text().split('\n').map((l) => l.split('\r').pop()!.replace(/\x1b\[2K/g, ''));
    expect(finals.filter((l) => /done in/.test(l)).map((l) => l.slice(0, 7))).toEqual(['train A', 'train B']);
    expect(s.text().endsWith('\n')).toBe(true);
  });
});
