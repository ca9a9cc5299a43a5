/** The charts' theme colours (charts/theme.ts): WCAG AA contrast against the panel they are drawn on, both themes. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DARK, LIGHT, contrastRatio } from '../../src-renderer/src/charts/theme';
import { buildTrainingOption } from '../../src-renderer/src/charts/training';
import { buildSweepOption } from '../../src-renderer/src/charts/stability';

const css = readFileSync(path.resolve(import.meta.dirname, '../../src-renderer/src/styles.css'), 'utf8');

describe('chart theme', () => {
  it('computes WCAG contrast ratios', () => {
    expect(contrastRatio('#000000', '#ffffff')).toBeCloseTo(21, 6);
    expect(contrastRatio('#ffffff', '#ffffff')).toBe(1);
    // ECharts' default axis-label grey on the dark panel: the 2.3:1 that was reported.
    expect(contrastRatio('#54555a', DARK.background)).toBeLessThan(2.5);
  });

  for (const [name, theme, block] of [
    ['light', LIGHT, css.slice(0, css.indexOf('@media (prefers-color-scheme: dark)'))],
    ['dark', DARK, css.slice(css.indexOf('@media (prefers-color-scheme: dark)'))],
  ] as const) {
    it(`${name}: text, axis labels and names reach 4.5:1 against the panel the charts sit on`, () => {
      // The background is the stylesheet's panel colour for this theme.
      expect(/--panel:\s*(#[0-9a-f]{6})/i.exec(block)![1]!.toLowerCase()).toBe(theme.background);
      expect(contrastRatio(theme.text, theme.background)).toBeGreaterThanOrEqual(4.5);
      expect(contrastRatio(theme.axisLabel, theme.background)).toBeGreaterThanOrEqual(4.5);
    });
  }

  it('every chart uses the theme for its tick labels, axis names and legend', () => {
    const training = buildTrainingOption({ A: [{ step: 1, epoch: 0, lr: 0.1, loss: 1, acc: 0.5 }] }, { smoothing: 0, x: 'step', logY: false, dark: true });
    const sweep = buildSweepOption({ masks: 1, points: [] }, { dark: true });
    for (const o of [training, sweep]) {
      const axes = [o['xAxis'], o['yAxis']].flat() as { axisLabel: { color: string }; nameTextStyle: { color: string } }[];
      for (const a of axes) {
        expect(a.axisLabel.color).toBe(DARK.axisLabel);
        expect(a.nameTextStyle.color).toBe(DARK.text);
      }
      expect((o['legend'] as { textStyle: { color: string } }).textStyle.color).toBe(DARK.text);
    }
  });
});
