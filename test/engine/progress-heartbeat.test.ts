/**
 * A long training shows progress from the start: between log points (every total/100 steps, hours apart in a long
 * run) the minibatch loop reports every PROGRESS_HEARTBEAT_SEC seconds. The clock is simulated (each reading of
 * performance.now advances it by 1 s), so the test does not depend on the machine's speed.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend/backends';
import { gaussianMixture } from '../../src-main/engine/data/synthetic';
import type { ArchSpec } from '../../src-main/engine/nn/spec';
import { train } from '../../src-main/engine/train/loop';
import { PROGRESS_HEARTBEAT_SEC } from '../../src-main/engine/train/minibatches';
import type { ProgressEvent } from '../../src-main/engine/util/progress';

const data = gaussianMixture({ classes: 2, dim: 4, train: 64, test: 16, separation: 4, noise: 1, clustersPerClass: 1, seed: 1 });
const spec: ArchSpec = { input: data.inputShape, layers: [{ type: 'dense', units: 4, bias: true, dropout: 0 }, { type: 'dense', units: 2, bias: true, dropout: 0 }] };
const cfg = { optimizer: { type: 'sgd' as const, lr: 0.01, momentum: 0, nesterov: false, weightDecay: 0 }, schedule: { type: 'constant' as const }, batchSize: 16, steps: 40 };

describe('training progress', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });
  afterEach(() => vi.restoreAllMocks());

  it('reports between log points when they are far apart in time', async () => {
    let clock = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => (clock += 1000));
    const events: ProgressEvent[] = [];
    // One log point, at the end: before the heartbeat nothing came until the run was over.
    await train(spec, data, cfg, { seed: 1, logPoints: 1, onProgress: (e) => events.push(e) });
    const early = events.filter((e) => e.done < 40);
    expect(early.length).toBeGreaterThan(0);
    expect(early[0]!.done).toBeLessThanOrEqual(PROGRESS_HEARTBEAT_SEC);
    expect(early[0]!.metrics?.['samplesPerSec']).toBeGreaterThan(0);
    expect(events.at(-1)).toMatchObject({ done: 40, total: 40 });
  });

  it('adds nothing when steps are quicker than the heartbeat', async () => {
    const events: ProgressEvent[] = [];
    let clock = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => (clock += 0.001));
    await train(spec, data, cfg, { seed: 1, logPoints: 4, onProgress: (e) => events.push(e) });
    expect(events.map((e) => e.done)).toEqual([10, 20, 30, 40]);
  });
});
