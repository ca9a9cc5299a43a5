/** The run's stability report: Definition 1 for every endpoint, and the keep-fraction sweep (paper Fig. 2 left). */
import { evaluateHost } from '../eval/host';
import type { Metrics } from '../eval/evaluate';
import { compact } from '../nn/compact';
import { randomKept } from '../theory/dropout-stability';
import { drop } from '../theory/kept';
import { measureNoiseStability } from '../theory/noise-stability';
import { geometry, hiddenWidths } from '../nn/units';
import { throwIfCancelled } from '../util/errors';
import { StageTimer, yieldToEventLoop } from '../util/progress';
import { Rng, deriveSeed } from '../util/rng';
import type { ExperimentContext } from './context';
import type { NarrowPoint, StabilityReport, SweepPoint } from './result';
import { trainingWith } from '../recipe/resolve';
import { train } from '../train/loop';
import { withHiddenWidths } from '../theory/embed';

const mean = (x: number[]): number => x.reduce((a, b) => a + b, 0) / x.length;
const std = (x: number[]): number => Math.sqrt(mean(x.map((v) => (v - mean(x)) ** 2)));

export async function stabilityReport(ctx: ExperimentContext): Promise<StabilityReport | undefined> {
  const cfg = ctx.recipe.stability;
  if (!cfg) return undefined;
  const report: StabilityReport = {};
  const names = ctx.recipe.endpoints.map((e) => e.name);
  if (cfg.dropout) {
    report.dropout = {};
    for (const n of names) report.dropout[n] = await ctx.dropoutStability(n, cfg.dropout);
  }
  if (cfg.sweep) {
    const { fractions, masks } = cfg.sweep;
    const search = ctx.searchSplit(cfg.dropout?.searchSamples ?? 2000);
    const widths = hiddenWidths(ctx.spec);
    const geo = geometry(ctx.spec);
    const timer = new StageTimer(ctx.onProgress, 'stability:sweep', 'keep-fraction sweep', fractions.length * names.length * masks, 'masks');
    let done = 0;
    const points: SweepPoint[] = [];
    for (const f of fractions) {
      const per: Record<string, Metrics> = {};
      for (const n of names) {
        const theta = ctx.weights.get(n)!;
        const rng = new Rng(deriveSeed(ctx.recipe.seed, `sweep:${n}:${f}`));
        const r = widths.map(() => 1 / f);
        let best: { loss: number; kept: number[][] } | null = null;
        for (let m = 0; m < masks; m++) {
          throwIfCancelled(ctx.signal);
          const kept = randomKept(widths, f, rng);
          const c = compact(ctx.spec, drop(ctx.spec, theta, kept, r, 1, geo));
          const { loss } = await evaluateHost(c.spec, c.params, search);
          if (!best || loss < best.loss) best = { loss, kept };
          timer.report(++done, { fraction: f });
          await yieldToEventLoop();
        }
        const c = compact(ctx.spec, drop(ctx.spec, theta, best!.kept, r, 1, geo));
        per[n] = await evaluateHost(c.spec, c.params, ctx.splits.train);
      }
      const losses = Object.values(per).map((m) => m.loss);
      const accs = Object.values(per).map((m) => m.acc);
      points.push({ keepFraction: f, loss: { mean: mean(losses), std: std(losses) }, acc: { mean: mean(accs), std: std(accs) }, perEndpoint: per });
    }
    report.sweep = { masks, points };
  }
  if (cfg.narrow) {
    const { widths, trials } = cfg.narrow;
    const trainCfg = trainingWith(ctx.recipe, cfg.narrow.training, ['stability', 'narrow', 'training']);
    const points: NarrowPoint[] = [];
    for (const w of widths) {
      const spec = withHiddenWidths(ctx.spec, hiddenWidths(ctx.spec).map(() => w));
      spec.layers = spec.layers.map((l) => ({ ...l, dropout: 0 }));
      const runs: NarrowPoint['trials'] = [];
      for (let k = 0; k < trials; k++) {
        const seed = deriveSeed(ctx.recipe.seed, `narrow-sweep:${w}:${k}`);
        const r = await train(spec, ctx.data, trainCfg, {
          seed,
          stage: `narrow:${w}:${k}`,
          label: `narrow w=${w} #${k + 1}`,
          onProgress: ctx.onProgress,
          signal: ctx.signal,
        });
        runs.push({ seed, train: await evaluateHost(spec, r.params, ctx.splits.train), test: await evaluateHost(spec, r.params, ctx.splits.test) });
      }
      const pick = (f: (t: NarrowPoint['trials'][number]) => number) => ({ mean: mean(runs.map(f)), std: std(runs.map(f)) });
      points.push({ width: w, loss: pick((t) => t.train.loss), acc: pick((t) => t.train.acc), testAcc: pick((t) => t.test.acc), trials: runs });
    }
    report.narrow = { trials, points };
  }
  if (cfg.noise) {
    report.noise = {};
    const x = ctx.sampleBatch(cfg.noise.samples);
    try {
      for (const n of names) {
        report.noise[n] = await measureNoiseStability(
          ctx.spec,
          ctx.weights.get(n)!,
          x,
          { ...cfg.noise, seed: deriveSeed(ctx.recipe.seed, `noise:${n}`) },
          { onProgress: ctx.onProgress, signal: ctx.signal, stage: `noise:${n}`, label: `noise stab. ${n}` },
        );
      }
    } finally {
      x.dispose();
    }
  }
  return report;
}
