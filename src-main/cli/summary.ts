/** The end-of-run summary printed on a terminal. */
import type { RunResult } from '../engine/recipe/result';
import { formatDuration } from './progress';
import { num, pct, table } from './table';

export function runSummary(r: RunResult): string {
  const out: string[] = [];
  out.push(`ModeLab run "${r.name}"${r.preset ? ` (preset ${r.preset})` : ''}: ${r.architecture.description}, ${r.architecture.parameters.toLocaleString('en-US')} parameters`);
  out.push(`dataset ${r.dataset.name}: ${r.dataset.trainSize} train / ${r.dataset.testSize} test; evaluated on ${r.dataset.evalTrainSize} train / ${r.dataset.evalTestSize} test samples`);
  out.push(`backend ${r.backend}: ${r.device} (tfjs ${r.tfjsVersion}); total ${formatDuration(r.timings['total'])}`);
  out.push('');
  out.push(
    table(
      ['endpoint', 'seed', 'train loss', 'train acc', 'test loss', 'test acc', 'train time', 'samples/s'],
      r.endpoints.map((e) => [e.name, String(e.seed), num(e.train.loss), pct(e.train.acc), num(e.test.loss), pct(e.test.acc), formatDuration(e.training.seconds), String(Math.round(e.training.samplesPerSec))]),
    ),
  );
  for (const p of r.paths) {
    out.push('');
    out.push(`path ${p.name} (${p.kind}, ${p.from} → ${p.to}): ${p.segments.length} segment${p.segments.length === 1 ? '' : 's'}, ${p.points.length} points`);
    const rows: string[][] = [];
    for (const split of ['train', 'test'] as const) {
      const b = p.barrier[split];
      const at = (v: { value: number; t: number }, f: (x: number) => string): string => `${f(v.value)} @ t=${v.t.toFixed(3)}`;
      rows.push([
        split,
        at(b.lossOverInterpolation, num),
        at(b.lossOverEndpointMean, num),
        at(b.errorOverInterpolation, pct),
        at(b.errorOverEndpointMean, pct),
        at(b.maxLoss, num),
      ]);
    }
    out.push(table(['barrier', 'loss − interp.', 'loss − mean(ends)', 'error − interp.', 'error − mean(ends)', 'max loss'], rows));
  }
  return out.join('\n');
}
