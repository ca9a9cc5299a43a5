/** The run-colour rule (charts/palette.ts): pairwise different colours in a comparison, stable, bounded shades. */
import { describe, expect, it } from 'vitest';
import { MIN_DELTA_E, PALETTE, SHADE_LIGHTNESS, assignRunColours, deltaE, hashString, normaliseColour, parseHex, rgbToHsl, runColour, runShades } from '../../src-renderer/src/charts/palette';

const ids = (n: number, prefix = '01run'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i.toString(36).padStart(11, 'x')}`);
const lightness = (hex: string): number => rgbToHsl(parseHex(hex)!)[2];

describe('run colours in a comparison', () => {
  it('differ pairwise for 1 … 40 runs without stored colours, clearly (ΔE ≥ 20) for up to 16', () => {
    const minDelta = (cs: string[]): number => Math.min(...cs.flatMap((a, i) => cs.slice(i + 1).map((b) => deltaE(a, b))));
    for (let n = 1; n <= 40; n++) {
      const runs = ids(n).map((id) => ({ id }));
      const colours = [...assignRunColours(runs).values()];
      expect(colours).toHaveLength(n);
      expect(new Set(colours).size).toBe(n);
      if (n >= 2 && n <= 16) expect(minDelta(colours)).toBeGreaterThanOrEqual(MIN_DELTA_E);
    }
    // Past the palette's clearly different colours, generated hues.
    expect([...assignRunColours(ids(14).map((id) => ({ id }))).values()].filter((c) => !PALETTE.includes(c)).length).toBeGreaterThan(0);
    // The palette's near pairs are what the distance rules out.
    expect(deltaE('#228833', '#117733')).toBeLessThan(MIN_DELTA_E);
    expect(deltaE('#ee6677', '#cc6677')).toBeLessThan(MIN_DELTA_E);
  });

  it('differ when every run has the same stored colour: the first keeps it, the others are reassigned', () => {
    const runs = ids(5).map((id) => ({ id, colour: '#EE6677' }));
    const colours = assignRunColours(runs);
    expect(colours.get(runs[0]!.id)).toBe('#ee6677');
    expect(new Set(colours.values()).size).toBe(5);
    // #rgb and #rrggbb of one colour are one colour.
    const short = assignRunColours([{ id: 'a', colour: '#fff' }, { id: 'b', colour: '#ffffff' }]);
    expect(short.get('a')).toBe('#ffffff');
    expect(short.get('b')).not.toBe('#ffffff');
    // Distinct stored colours are kept even when close: they were chosen.
    const close = assignRunColours([{ id: 'a', colour: '#ee6677' }, { id: 'b', colour: '#cc6677' }]);
    expect([...close.values()]).toEqual(['#ee6677', '#cc6677']);
  });

  it('keep stored colours; runs whose ids hash to one colour (or to a near one) get clearly different ones', () => {
    // Two runs whose ids hash to the same palette colour: the old rule gave them one colour.
    const all = ids(200);
    const slot = (id: string): number => hashString(id) % PALETTE.length;
    const a = all[0]!;
    const b = all.find((id) => id !== a && slot(id) === slot(a))!;
    expect(runColour({ id: a })).toBe(runColour({ id: b }));
    const pair = assignRunColours([{ id: a }, { id: b }]);
    expect(deltaE(pair.get(a)!, pair.get(b)!)).toBeGreaterThanOrEqual(MIN_DELTA_E);
    // A stored colour equal to another run's hash colour is kept; the hashed run moves on.
    const stored = assignRunColours([{ id: a }, { id: 'stored', colour: runColour({ id: a }) }]);
    expect(stored.get('stored')).toBe(runColour({ id: a }));
    expect(stored.get(a)).not.toBe(runColour({ id: a }));
  });

  it('are stable: the same list gives the same colours; a run alone keeps its own colour', () => {
    const runs = [...ids(6).map((id) => ({ id })), { id: 'x', colour: '#123456' }, { id: 'y', colour: 'red' }];
    expect([...assignRunColours(runs)]).toEqual([...assignRunColours(runs.map((r) => ({ ...r })))]);
    const alone = assignRunColours([runs[0]!]);
    expect(alone.get(runs[0]!.id)).toBe(runColour(runs[0]!));
    expect(assignRunColours(runs).get('y')).toBe('red');
    expect(normaliseColour(' #ABC ')).toBe('#aabbcc');
  });
});

describe('shades of one run’s colour (its paths)', () => {
  it('are the run’s colour first, then further shades within the theme’s bounded lightness range, all different', () => {
    for (const dark of [false, true]) {
      const range = SHADE_LIGHTNESS[dark ? 'dark' : 'light'];
      for (const colour of ['#000000', '#ffffff', '#123456', '#4477aa', '#ccbb44']) {
        for (let n = 1; n <= 8; n++) {
          const shades = runShades(colour, n, dark);
          expect(shades).toHaveLength(n);
          expect(new Set(shades).size).toBe(n);
          expect(shades[0]).toBe(colour);
          for (const s of shades.slice(1)) {
            expect(lightness(s)).toBeGreaterThanOrEqual(range.min - 0.005);
            expect(lightness(s)).toBeLessThanOrEqual(range.max + 0.005);
          }
        }
      }
    }
    // A colour name cannot be shaded: kept as it is.
    expect(runShades('red', 2)).toEqual(['red', 'red']);
  });
});
