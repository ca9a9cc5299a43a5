/** The end-of-run summary printed on a terminal. */
import type { PathResult, RunResult } from '../engine/recipe/result';
import { formatDuration } from './progress';
import { num, pct, table } from './table';

function constructionLine(p: PathResult): string {
  const c = p.construction as Record<string, unknown>;
  if (p.kind === 'theorem1') return `kept ${String(c['keptSizes'])} units per hidden layer, r = ${num(c['r'] as number, 3)}, ${String(c['dropoutStable'])}`;
  if (p.kind === 'theorem2' || p.kind === 'theorem3') {
    const a1 = c['algorithm1'] as Record<string, { tries: number; toleranceMet: boolean; lineExcessOnSearch: number }>;
    const parts = Object.entries(a1).map(([e, v]) => `${e}: ${v.tries} ${v.tries === 1 ? "try" : "tries"}, straight-segment excess ${num(v.lineExcessOnSearch)}${v.toleranceMet ? '' : ' (tolerance not met)'}`);
    const narrow = c['narrow'] as { widths: number[]; train: { loss: number; acc: number } } | undefined;
    return `Algorithm 1 p = ${num(c['p'] as number, 3)}; ${parts.join('; ')}${narrow ? `; θ* widths ${narrow.widths.join('-')}, L(θ*) = ${num(narrow.train.loss)}` : ''}`;
  }
  if (p.kind === 'dropout-line') return `p = ${c['p']}, ${c['scale']} scaling, kept ${String(c["keptSizes"])}, ${c["tries"]} ${c["tries"] === 1 ? "try" : "tries"}${c['accepted'] ? '' : ' (accuracy target not met)'}`;
  return '';
}

function checkLine(c: PathResult['check']): string {
  const parts = [
    `${c.pass ? 'PASS' : 'FAIL'}`,
    `ends exact ${c.endpoints.startsAtA && c.endpoints.endsAtB ? 'yes' : 'NO'}`,
    `segments ${c.segmentCount.actual}/${c.segmentCount.expected}`,
  ];
  if (c.functionPreserving.segments) parts.push(`(b)/(c) max |Δout| ${c.functionPreserving.maxAbsDiff.toExponential(1)}`);
  if (c.topLayerOnly.segments) parts.push(`(a) top layer only ${c.topLayerOnly.violations.length === 0 ? 'yes' : 'NO'}`);
  if (c.lossBound) parts.push(`max train loss ${num(c.lossBound.maxTrainLoss)} ≤ bound ${num(c.lossBound.bound)} (ε ${num(c.lossBound.epsilon)}): ${c.lossBound.pass ? 'yes' : 'NO'}`);
  return parts.join(', ');
}

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
  if (r.stability?.dropout) {
    out.push('');
    const rows = Object.entries(r.stability.dropout).map(([name, s]) => [
      name,
      `${s.keepFraction} (r=${num(s.r, 3)})`,
      num(s.base.loss),
      s.perLayer.map((p) => `θ_${p.i}: ${num(p.train.loss)} / ${pct(p.train.acc)}`).join('  '),
      num(s.epsilon),
      `${s.chosen} (best of ${s.candidates.length})`,
    ]);
    out.push('dropout stability (Definition 1, training evaluation set)');
    out.push(table(['endpoint', 'kept', 'L(θ)', 'L(θ_i) / acc', 'ε', 'kept sets'], rows));
  }
  if (r.stability?.sweep) {
    out.push('');
    out.push(`keep-fraction sweep: θ_1, best of ${r.stability.sweep.masks} random kept sets, mean ± std over endpoints`);
    out.push(
      table(
        ['kept', 'train loss', 'train acc'],
        r.stability.sweep.points.map((p) => [p.keepFraction.toFixed(2), `${num(p.loss.mean)} ± ${num(p.loss.std)}`, `${pct(p.acc.mean)} ± ${pct(p.acc.std)}`]),
      ),
    );
  }
  if (r.stability?.narrow) {
    out.push('');
    out.push(`narrow networks (every hidden layer w wide), mean ± std over ${r.stability.narrow.trials} trials`);
    out.push(
      table(
        ['width', 'train loss', 'train acc', 'test acc'],
        r.stability.narrow.points.map((p) => [String(p.width), `${num(p.loss.mean)} ± ${num(p.loss.std)}`, `${pct(p.acc.mean)} ± ${pct(p.acc.std)}`, `${pct(p.testAcc.mean)} ± ${pct(p.testAcc.std)}`]),
      ),
    );
  }
  if (r.stability?.noise) {
    for (const [name, n] of Object.entries(r.stability.noise)) {
      out.push('');
      out.push(`noise stability of ${name} (${n.samples} training points; medians, [5%, 95%])`);
      const q = (d: { median: number; p05: number; p95: number } | undefined): string => (d && Number.isFinite(d.median) ? `${num(d.median, 3)} [${num(d.p05, 3)}, ${num(d.p95, 3)}]` : '—');
      out.push(
        table(
          ['layer', 'layer cushion µ_i', 'interlayer cushion µ_i→', 'contraction c', 'smoothness ρ', 'ρ ≥ 3d'],
          n.layers.map((l) => [
            `${l.layer} (${l.kind})`,
            q(l.layerCushion),
            q(l.interlayerCushion),
            q(l.activationContraction),
            q(l.interlayerSmoothness),
            l.smoothnessAtLeast3d === undefined ? '—' : pct(l.smoothnessAtLeast3d),
          ]),
        ),
      );
      out.push(`  Definition 4: ε = ${n.definition4.epsilon.toPrecision(4)} (c = ${num(n.definition4.c, 3)}, min µ_i·µ_i→ = ${n.definition4.minCushionProduct.toPrecision(3)}, max ‖f(x)‖ = ${num(n.definition4.maxOutputNorm, 2)})`);
    }
  }
  for (const p of r.paths) {
    out.push('');
    out.push(`path ${p.name} (${p.kind}, ${p.from} → ${p.to}): ${p.segments.length} segment${p.segments.length === 1 ? '' : 's'}, ${p.points.length} points`);
    out.push(`  evaluation: ${p.cost.fullPassEquivalents.toFixed(2)} full-pass equivalents (naive ${p.cost.naive}), ${p.cost.distinctFunctions} distinct vertex functions`);
    out.push(`  check: ${checkLine(p.check)}`);
    const info = constructionLine(p);
    if (info) out.push(`  construction: ${info}`);
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
