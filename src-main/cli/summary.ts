/** The end-of-run summary printed on a terminal. */
import { CHECK_STATE_LABEL, checkStateOf } from '../engine/experiment/check-state';
import { type Alignment, type TrainedCurveConstruction, alignmentOf } from '../engine/experiment/construction';
import type { PathResult, PlaneResult } from '../engine/experiment/result';
import type { RunDocument } from '../store/run-document';
import { distinctDigits } from '../engine/util/format-compare';
import { formatDuration } from './progress';
import { num, pct, table } from './table';

function constructionLine(p: PathResult): string {
  switch (p.kind) {
    case 'theorem1': {
      const c = p.construction;
      return `kept ${String(c.keptSizes)} units per hidden layer, r = ${num(c.r, 3)}, ${c.dropoutStable}`;
    }
    case 'theorem2':
    case 'theorem3': {
      const c = p.construction;
      const parts = Object.entries(c.algorithm1).map(([e, v]) => `${e}: ${v.tries} ${v.tries === 1 ? 'try' : 'tries'}, straight-segment excess ${num(v.lineExcessOnSearch)}${v.toleranceMet ? '' : ' (tolerance not met)'}`);
      return `Algorithm 1 p = ${num(c.p, 3)}; ${parts.join('; ')}${c.narrow ? `; θ* widths ${c.narrow.widths.join('-')}, L(θ*) = ${num(c.narrow.train.loss)}` : ''}`;
    }
    case 'aligned-linear':
      return alignmentLine(p.construction.alignment);
    case 'aligned-bezier':
    case 'aligned-polychain':
      return [alignmentLine(p.construction.alignment), curveLine(p.construction)].filter(Boolean).join('; ');
    case 'bezier':
    case 'polychain':
      // Theorem 4's counterexample curves record their training steps and bend only.
      return 'training' in p.construction ? curveLine(p.construction) : '';
    case 'dropout-line': {
      const c = p.construction;
      return `p = ${c.p}, ${c.scale} scaling, kept ${String(c.keptSizes)}, ${c.tries} ${c.tries === 1 ? 'try' : 'tries'}${c.accepted ? '' : ' (accuracy target not met)'}`;
    }
    case 'linear':
      return '';
  }
}

/** Trained curves (bezier, polychain, aligned curves): shape and training. */
function curveLine(c: TrainedCurveConstruction): string {
  const { curve: shape, training: tr } = c;
  const what = shape.type === 'bezier' ? `Bézier order ${shape.order}` : `polygonal chain, ${shape.bends} bend${shape.bends === 1 ? '' : 's'}`;
  const last = tr.log[tr.log.length - 1];
  return `${what}, trained ${tr.steps} steps (${tr.samples} samples, ${formatDuration(tr.seconds)}, ${Math.round(tr.samplesPerSec)} samples/s)${last ? `, final minibatch loss at random t ${num(last.loss)}` : ''}`;
}

/** Aligned paths: the matching and the naive line's barrier it is compared with. */
function alignmentLine(a: Alignment): string {
  const how = a.method.startsWith('weight') ? `weight matching, ${a.iterations} sweep${a.iterations === 1 ? '' : 's'}${a.converged ? '' : ' (not converged)'}` : 'activation matching';
  return `${how} in ${formatDuration(a.seconds)}, units moved ${a.moved.map((m) => pct(m)).join(' / ')}; naive line (${a.barrierBefore.source}): train loss − interp. ${num(a.barrierBefore.barrier.train.lossOverInterpolation.value)}`;
}

/** A path's check on one line: the verdict, then each part with its numbers. */
export function checkLine(c: PathResult['check']): string {
  const parts = [
    CHECK_STATE_LABEL[checkStateOf(c)],
    `ends exact ${c.endpoints.startsAtA && c.endpoints.endsAtB ? 'yes' : 'NO'}`,
    `segments ${c.segmentCount.actual}/${c.segmentCount.expected}`,
  ];
  if (c.functionPreserving.segments) parts.push(`(b)/(c) max |Δout| ${c.functionPreserving.maxAbsDiff.toExponential(1)}`);
  if (c.topLayerOnly.segments) parts.push(`(a) top layer only ${c.topLayerOnly.violations.length === 0 ? 'yes' : 'NO'}`);
  if (c.endFunction) parts.push(`${c.endFunction.vertex} = θ_B's function: max |Δout| ${c.endFunction.maxAbsDiff.toExponential(1)} ${c.endFunction.pass ? 'yes' : 'NO'}`);
  if (c.theorem4) parts.push(`Theorem 4: max train loss ${num(c.theorem4.maxLoss)} at t=${c.theorem4.t.toFixed(3)} > 0: ${c.theorem4.pass ? 'yes' : 'NO'}`);
  const lb = c.lossBound;
  if (lb) {
    const [max, bound] = distinctDigits(lb.maxTrainLoss, lb.bound);
    parts.push(`max train loss${lb.over ? ` on ${lb.over}` : ''} ${max} ≤ bound ${bound}${lb.over ? '' : ` (ε ${num(lb.epsilon)})`}: ${lb.pass ? 'yes' : 'NO'}`);
  }
  for (const s of c.algorithm1Segments?.segments ?? []) {
    const [excess, tol] = distinctDigits(s.excess, c.algorithm1Segments!.tolerance);
    const scale = s.theoryScale === null ? 'Õ(ε) not measured (stability.noise)' : `Õ(ε) scale ${num(s.theoryScale)}`;
    parts.push(`Algorithm 1 segment ${s.endpoint}: excess ${excess} ≤ tolerance ${tol}: ${s.withinTolerance ? 'yes' : 'no — WARNING'} (${scale})`);
  }
  return parts.join(', ');
}

/** A header fact, or '?' where the stored run's document does not know it. */
const known = (v: string | number | null | undefined): string => (v === null || v === undefined ? '?' : String(v));

/** The summary of a run's document: a finished run's (RunResult), or a stored one's, where '?' marks what it lacks. */
/** The weights file an endpoint was loaded from (recipe `weights`), if it was not trained. */
function loadedFrom(r: RunDocument, endpoint: string): string | undefined {
  const endpoints = r.config && typeof r.config === 'object' ? (r.config as { endpoints?: unknown }).endpoints : undefined;
  if (!Array.isArray(endpoints)) return undefined;
  const e = (endpoints as ({ name?: unknown; weights?: unknown } | null)[]).find((x) => x?.name === endpoint);
  return typeof e?.weights === 'string' ? e.weights : undefined;
}

export function runSummary(r: RunDocument): string {
  const out: string[] = [];
  const { architecture: a, dataset: d } = r;
  out.push(`ModeLab run "${r.name}"${r.preset ? ` (preset ${r.preset})` : ''}: ${a ? `${a.description}, ${a.parameters.toLocaleString('en-US')} parameters` : 'architecture not recorded'}`);
  out.push(
    d
      ? `dataset ${d.name}: ${known(d.trainSize)} train / ${known(d.testSize)} test; evaluated on ${known(d.evalTrainSize)} train / ${known(d.evalTestSize)} test samples`
      : 'dataset not recorded',
  );
  out.push(`backend ${known(r.backend)}: ${known(r.device)} (tfjs ${known(r.tfjsVersion)}); total ${formatDuration(r.timings['total'])}`);
  out.push('');
  out.push(
    table(
      ['endpoint', 'seed', 'train loss', 'train acc', 'test loss', 'test acc', 'train time', 'samples/s'],
      r.endpoints.map((e) =>
        loadedFrom(r, e.name) !== undefined
          ? [e.name, '—', num(e.train.loss), pct(e.train.acc), num(e.test.loss), pct(e.test.acc), 'loaded', '—']
          : [e.name, String(e.seed), num(e.train.loss), pct(e.train.acc), num(e.test.loss), pct(e.test.acc), formatDuration(e.training.seconds), String(Math.round(e.training.samplesPerSec))],
      ),
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
  if (r.paths.length > 1) {
    out.push('');
    out.push(comparison(r.paths));
  }
  if (r.plane) {
    out.push('');
    out.push(planeSummary(r.plane));
  }
  return out.join('\n');
}

/** Every path's barriers side by side (the same evaluation sets for all). */
export function comparison(paths: PathResult[]): string {
  const at = (v: { value: number; t: number }, f: (x: number) => string): string => `${f(v.value)} @${v.t.toFixed(2)}`;
  const rows = paths.map((p) => {
    const [tr, te] = [p.barrier.train, p.barrier.test];
    const before = alignmentOf(p)?.barrierBefore.barrier;
    return [
      p.name,
      p.kind,
      String(p.segments.length),
      at(tr.lossOverInterpolation, num),
      at(te.lossOverInterpolation, num),
      at(tr.errorOverInterpolation, pct),
      at(te.errorOverInterpolation, pct),
      num(tr.maxLoss.value),
      pct(te.maxError.value),
      before ? `${num(before.train.lossOverInterpolation.value)} → ${num(tr.lossOverInterpolation.value)}` : '',
      CHECK_STATE_LABEL[checkStateOf(p.check)],
    ];
  });
  return [
    'all paths side by side (barrier = max over t of the value minus the chord between the ends; @t = where)',
    table(['path', 'kind', 'segs', 'train loss', 'test loss', 'train error', 'test error', 'max train loss', 'max test error', 'aligned: naive → after', 'check'], rows),
  ].join('\n');
}

/** A few lines on the loss plane, and a coarse character map of its training loss with the three networks marked. */
export function planeSummary(pl: PlaneResult): string {
  const out: string[] = [];
  const [nx, ny] = [pl.grid.xs.length, pl.grid.ys.length];
  const flat = pl.train.loss.flat().filter((v) => Number.isFinite(v));
  let best = { v: Infinity, x: 0, y: 0 };
  pl.train.loss.forEach((row, iy) => row.forEach((v, ix) => v < best.v && (best = { v, x: pl.grid.xs[ix]!, y: pl.grid.ys[iy]! })));
  out.push(
    `loss plane through ${pl.points.map((p) => p.label).join(', ')}: ${nx}×${ny} grid (margin ${pl.grid.margin}), ${pl.samples.train} train / ${pl.samples.test} test samples per point, ${formatDuration(pl.seconds)}${pl.batchNorm === 'recomputed' ? ', BN statistics recomputed at every point' : ''}`,
  );
  out.push(
    table(
      ['point', 'x', 'y', 'train loss', 'train acc', 'test loss', 'test acc'],
      pl.points.map((p) => [p.label, num(p.x, 2), num(p.y, 2), num(p.train.loss), pct(p.train.acc), num(p.test.loss), pct(p.test.acc)]),
    ),
  );
  out.push(`grid train loss: min ${num(best.v)} at (${num(best.x, 2)}, ${num(best.y, 2)}), max ${num(Math.max(...flat))}`);
  out.push(`paths projected (largest distance from the plane): ${pl.paths.map((p) => `${p.name} ${num(Math.max(...p.offPlane), 2)}`).join(', ')}`);
  // Character map, top row = largest y; darker = higher log-loss; A, B, C mark the three networks, * the path points.
  const shades = ' .:-=+*#%@';
  const logs = flat.map((v) => Math.log(Math.max(v, 1e-8)));
  const [lo, hi] = [Math.min(...logs), Math.max(...logs)];
  const cell = (v: number): string => shades[Math.min(shades.length - 1, Math.max(0, Math.floor(((Math.log(Math.max(v, 1e-8)) - lo) / (hi - lo || 1)) * shades.length)))]!;
  const grid = pl.train.loss.map((row) => row.map(cell));
  const mark = (x: number, y: number, ch: string): void => {
    const [x0, x1, y0, y1] = [pl.grid.xs[0]!, pl.grid.xs[nx - 1]!, pl.grid.ys[0]!, pl.grid.ys[ny - 1]!];
    const ix = Math.round(((x - x0) / (x1 - x0)) * (nx - 1));
    const iy = Math.round(((y - y0) / (y1 - y0)) * (ny - 1));
    if (ix >= 0 && ix < nx && iy >= 0 && iy < ny) grid[iy]![ix] = ch;
  };
  pl.points.forEach((p, k) => mark(p.x, p.y, 'ABC'[k]!));
  out.push(`train loss map (log scale '${shades}' from ${num(Math.exp(lo))} to ${num(Math.exp(hi))}; A = ${pl.points[0]?.label}, B = ${pl.points[1]?.label}, C = third point):`);
  for (let iy = ny - 1; iy >= 0; iy--) out.push(`  ${grid[iy]!.map((c) => `${c} `).join('')}`);
  return out.join('\n');
}
