/**
 * Every number a run document reports that a study compares across cells and trials, as one flat list: the one
 * source of the study table, the tidy CSV and the app's study charts.
 *
 * Names (`metric`), with `split` train, test, or empty where the number is of neither:
 *   endpoint.<name>.loss | .acc                          each endpoint's loss and accuracy (train, test)
 *   path.<name>.<barrier>                                each path's barrier metrics (eval/barrier.ts: lossOverInterpolation,
 *                                                        lossOverEndpointMean, errorOverInterpolation,
 *                                                        errorOverEndpointMean, maxLoss, maxError; train, test)
 *   dropout.<endpoint>.epsilon                           ε of Definition 1 (train)
 *   dropout.<endpoint>.theta<i>.loss                     L(θ_i), layers i … d−1 dropped (train; arXiv:1906.06247 §3)
 *   noise.<endpoint>.epsilon                             ε of Definition 4 (split empty)
 *   sweep.keep=<f>.loss | .acc                           θ_1 against the kept fraction f, mean over the endpoints (train)
 *   narrow.width=<w>.loss | .acc                         narrow networks of width w, mean over their trials (train, test)
 */
import type { RunResult } from '../experiment/result';

export type MetricSplit = 'train' | 'test' | '';

/** Which part of a run a metric comes from (a chart groups by it). */
export type MetricFamily = 'endpoint' | 'barrier' | 'dropout' | 'noise' | 'sweep' | 'narrow';

export interface MetricValue {
  metric: string;
  split: MetricSplit;
  family: MetricFamily;
  /** The endpoint or path it is about ('' for sweep and narrow points). */
  subject: string;
  /** What is measured: loss, acc, epsilon, a barrier metric's name. */
  quantity: string;
  /** The swept value inside the run: the kept fraction (sweep), the width (narrow), i (θ_i); absent otherwise. */
  x?: number;
  /** null where the run recorded no finite number. */
  value: number | null;
}

const BARRIER_KEYS = ['lossOverInterpolation', 'lossOverEndpointMean', 'errorOverInterpolation', 'errorOverEndpointMean', 'maxLoss', 'maxError'] as const;

const finite = (v: number | null | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The metrics of one run document, in a fixed order (endpoints, paths, stability), as listed above. */
export function runMetrics(doc: Pick<RunResult, 'endpoints' | 'paths' | 'stability'>): MetricValue[] {
  const out: MetricValue[] = [];
  const add = (m: Omit<MetricValue, 'metric'>, metric: string): void => {
    out.push({ metric, ...m, value: finite(m.value) });
  };
  for (const e of doc.endpoints ?? []) {
    for (const split of ['train', 'test'] as const) {
      for (const q of ['loss', 'acc'] as const) add({ split, family: 'endpoint', subject: e.name, quantity: q, value: e[split]?.[q] ?? null }, `endpoint.${e.name}.${q}`);
    }
  }
  for (const p of doc.paths ?? []) {
    for (const split of ['train', 'test'] as const) {
      for (const k of BARRIER_KEYS) add({ split, family: 'barrier', subject: p.name, quantity: k, value: p.barrier?.[split]?.[k]?.value ?? null }, `path.${p.name}.${k}`);
    }
  }
  const s = doc.stability;
  for (const [name, d] of Object.entries(s?.dropout ?? {})) {
    add({ split: 'train', family: 'dropout', subject: name, quantity: 'epsilon', value: d.epsilon }, `dropout.${name}.epsilon`);
    for (const l of d.perLayer) add({ split: 'train', family: 'dropout', subject: name, quantity: 'loss', x: l.i, value: l.train.loss }, `dropout.${name}.theta${l.i}.loss`);
  }
  for (const [name, n] of Object.entries(s?.noise ?? {})) add({ split: '', family: 'noise', subject: name, quantity: 'epsilon', value: n.definition4.epsilon }, `noise.${name}.epsilon`);
  for (const p of s?.sweep?.points ?? []) {
    for (const q of ['loss', 'acc'] as const) add({ split: 'train', family: 'sweep', subject: '', quantity: q, x: p.keepFraction, value: p[q].mean }, `sweep.keep=${p.keepFraction}.${q}`);
  }
  for (const p of s?.narrow?.points ?? []) {
    add({ split: 'train', family: 'narrow', subject: '', quantity: 'loss', x: p.width, value: p.loss.mean }, `narrow.width=${p.width}.loss`);
    add({ split: 'train', family: 'narrow', subject: '', quantity: 'acc', x: p.width, value: p.acc.mean }, `narrow.width=${p.width}.acc`);
    add({ split: 'test', family: 'narrow', subject: '', quantity: 'acc', x: p.width, value: p.testAcc.mean }, `narrow.width=${p.width}.acc`);
  }
  return out;
}
