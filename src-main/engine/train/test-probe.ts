/**
 * Test loss and accuracy while an endpoint trains, at every curve point (issue 13 item 10), on a fixed subsample of
 * the test set: min(test size, 2,000, the samples trained between two curve points). Each evaluation then costs at
 * most one forward pass per sample trained since the previous point — about a third of the training compute at
 * worst (small runs with frequent points), well under 1% for long runs. Networks in evaluation mode (no dropout).
 * Not measured for BatchNorm networks: their statistics are set only after training.
 */
import { type Dataset, featureCount, subset } from '../data/dataset';
import { DeviceSplit, type Metrics } from '../eval/evaluate';
import { evaluateHost } from '../eval/host';
import type { HostParams } from '../nn/params';
import { type ArchSpec, hasBatchNorm } from '../nn/spec';

export const TEST_PROBE_MAX = 2000;

/** Test samples evaluated at each curve point (0: none). */
export function testProbeSize(spec: ArchSpec, testN: number, batchSize: number, logEvery: number): number {
  return hasBatchNorm(spec) ? 0 : Math.min(testN, TEST_PROBE_MAX, batchSize * logEvery);
}

export class TestProbe {
  private readonly split: DeviceSplit;
  constructor(
    private readonly spec: ArchSpec,
    data: Dataset,
    n: number,
    seed: number,
  ) {
    this.split = new DeviceSplit(subset(data.test, n, seed, featureCount(data)), featureCount(data), Math.min(n, 500));
  }

  evaluate(params: HostParams): Promise<Metrics> {
    return evaluateHost(this.spec, params, this.split);
  }

  dispose(): void {
    this.split.dispose();
  }
}
