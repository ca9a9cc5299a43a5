/** Randomised dropouts with retries, for the noise-stable paths and the paper's Fig. 2 center line. */
import { evaluateHost } from '../eval/host';
import type { DeviceSplit, Metrics } from '../eval/evaluate';
import { type HostParams, lerpParams } from '../nn/params';
import type { ArchSpec } from '../nn/spec';
import { algorithm1 } from '../theory/algorithm1';
import { compact } from '../nn/compact';
import { type Kept, complement, drop } from '../theory/kept';
import { keptSize } from '../theory/dropout-stability';
import type { DroppedOut } from '../theory/noise-stable-paths';
import { UnitView, geometry, hiddenWidths } from '../nn/units';
import { throwIfCancelled } from '../util/errors';
import { type ProgressFn, StageTimer, yieldToEventLoop } from '../util/progress';
import { Rng } from '../util/rng';

export interface RetriedDropout extends DroppedOut {
  tries: number;
  /** Whether the straight segment stayed within the tolerance (else the best try is used). */
  toleranceMet: boolean;
  /** max over the checked t of L(θ + t(θ_1 − θ)) − L(θ), on the search samples. */
  lineExcess: number;
  /** Dropped fraction of each hidden layer. */
  droppedFraction: number[];
}

export interface RetryOptions {
  p: number;
  maxTries: number;
  tolerance: number;
  checkPoints: number;
  seed: number;
  /** Kept sets must satisfy this (e.g. at least half of each layer dropped). */
  requirement: (kept: Kept) => boolean;
  requirementText: string;
  search: DeviceSplit;
  onProgress?: ProgressFn;
  signal?: AbortSignal;
  stage: string;
  label: string;
}

/** Algorithm 1 until a draw meets the requirement and its straight segment stays within the tolerance. */
export async function algorithm1WithRetries(spec: ArchSpec, theta: HostParams, o: RetryOptions): Promise<RetriedDropout> {
  const rng = new Rng(o.seed);
  const widths = hiddenWidths(spec);
  const timer = new StageTimer(o.onProgress, o.stage, o.label, o.maxTries, 'tries');
  const base = (await evaluateHost(spec, theta, o.search)).loss;
  let best: RetriedDropout | null = null;
  for (let tries = 1; tries <= o.maxTries; tries++) {
    throwIfCancelled(o.signal);
    const r = algorithm1(spec, theta, o.p, rng);
    if (o.requirement(r.kept)) {
      let excess = -Infinity;
      for (let k = 1; k <= o.checkPoints; k++) {
        const m = await evaluateHost(spec, lerpParams(theta, r.theta1, k / o.checkPoints), o.search);
        excess = Math.max(excess, m.loss - base);
      }
      const cand: RetriedDropout = {
        ...r,
        tries,
        toleranceMet: excess <= o.tolerance,
        lineExcess: excess,
        droppedFraction: r.kept.map((k, idx) => 1 - k.length / widths[idx]!),
      };
      if (!best || excess < best.lineExcess) best = cand;
      if (cand.toleranceMet) {
        timer.report(o.maxTries);
        return cand;
      }
    }
    timer.report(tries, best ? { excess: best.lineExcess } : undefined);
    await yieldToEventLoop();
  }
  if (!best) throw new Error(`${o.label}: no Algorithm 1 draw in ${o.maxTries} tries met: ${o.requirementText}`);
  return { ...best, tries: o.maxTries };
}

/** θ with every hidden layer keeping `kept`, the 1/(1−p) factor put on the kept units' input rows (and biases). */
export function dropRows(spec: ArchSpec, theta: HostParams, K: Kept, r: number): HostParams {
  const geo = geometry(spec);
  const v = new UnitView(spec, theta, geo);
  K.forEach((kept, idx) => {
    const i = idx + 1;
    for (const u of complement(kept, geo[idx]!.rows)) v.zeroRow(i, u);
    for (const u of kept) v.copyRow(i, v, u, u, r);
  });
  return v.out;
}

export interface DroppedVersion {
  theta1: HostParams;
  kept: Kept;
  tries: number;
  /** Training accuracy of the dropped network on the search samples. */
  search: Metrics;
  accepted: boolean;
}

/** The paper's Fig. 2 center: redraw ⌊h(1−p)⌋ kept units per layer until the dropped net reaches `minAcc`. */
export async function droppedVersion(
  spec: ArchSpec,
  theta: HostParams,
  o: {
    p: number;
    minAcc: number;
    maxTries: number;
    scale: 'columns' | 'rows';
    seed: number;
    search: DeviceSplit;
    signal?: AbortSignal;
    onProgress?: ProgressFn;
    stage: string;
    label: string;
  },
): Promise<DroppedVersion> {
  const rng = new Rng(o.seed);
  const widths = hiddenWidths(spec);
  const r = 1 / (1 - o.p);
  // Each draw is a pass over the search set: minutes for a CNN when no draw reaches minAcc, so it reports.
  const timer = new StageTimer(o.onProgress, o.stage, o.label, o.maxTries, 'tries');
  let best: DroppedVersion | null = null;
  for (let tries = 1; tries <= o.maxTries; tries++) {
    throwIfCancelled(o.signal);
    const kept = widths.map((h) => rng.sample(h, keptSize(h, 1 - o.p)));
    const theta1 = o.scale === 'columns' ? drop(spec, theta, kept, widths.map(() => r), 1) : dropRows(spec, theta, kept, r);
    const c = compact(spec, theta1);
    const search = await evaluateHost(c.spec, c.params, o.search);
    const cand = { theta1, kept, tries, search, accepted: search.acc >= o.minAcc };
    if (!best || search.acc > best.search.acc) best = cand;
    if (cand.accepted) {
      timer.report(o.maxTries);
      return cand;
    }
    timer.report(tries, { bestAcc: best.search.acc });
    await yieldToEventLoop();
  }
  return { ...best!, tries: o.maxTries };
}
