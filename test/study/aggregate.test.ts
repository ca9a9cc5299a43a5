import { describe, expect, it } from 'vitest';
import { type CellOutcome, aggregateStudy, meanStd, studyCsv, studyCsvColumns } from '../../src-main/engine/study/aggregate';
import { runMetrics } from '../../src-main/engine/study/metrics';
import type { RunResult } from '../../src-main/engine/experiment/result';

type Doc = Pick<RunResult, 'endpoints' | 'paths' | 'stability'>;

const bv = (value: number) => ({ value, t: 0.5 });
const split = (l: number) => ({ lossOverInterpolation: bv(l), lossOverEndpointMean: bv(l + 1), errorOverInterpolation: bv(0.1), errorOverEndpointMean: bv(0.2), maxLoss: bv(2), maxError: bv(0.3) });

/** A run document with one endpoint, one path and a dropout ε, the numbers chosen per trial. */
function doc(loss: number, barrier: number, eps: number): Doc {
  return {
    endpoints: [{ name: 'A', seed: 1, train: { loss, acc: 0.9 }, test: { loss: loss + 0.5, acc: 0.8 }, training: { steps: 1, samples: 1, seconds: 1, samplesPerSec: 1, curve: [] } }],
    paths: [{ name: 'linear', barrier: { train: split(barrier), test: split(barrier * 2) } } as unknown as RunResult['paths'][number]],
    stability: {
      dropout: { A: { epsilon: eps, perLayer: [{ i: 1, train: { loss: eps + 1, acc: 0.5 }, excess: eps }] } as never },
      sweep: { masks: 2, points: [{ keepFraction: 0.5, loss: { mean: 3, std: 0 }, acc: { mean: 0.4, std: 0 }, perEndpoint: {} }] },
      narrow: { trials: 1, points: [{ width: 4, loss: { mean: 0.7, std: 0 }, acc: { mean: 0.6, std: 0 }, testAcc: { mean: 0.55, std: 0 }, trials: [] }] },
    },
  };
}

const settings = (h: number) => [{ field: 'architecture.hidden', value: [h, h] }];

describe('study aggregation', () => {
  it('lists every metric of a run, named and split', () => {
    const m = runMetrics(doc(1, 0.25, 0.125));
    const names = m.map((x) => `${x.metric}/${x.split}`);
    expect(names.slice(0, 4)).toEqual(['endpoint.A.loss/train', 'endpoint.A.acc/train', 'endpoint.A.loss/test', 'endpoint.A.acc/test']);
    expect(names).toContain('path.linear.lossOverInterpolation/test');
    expect(names).toContain('path.linear.maxError/train');
    expect(names).toContain('dropout.A.epsilon/train');
    expect(names).toContain('dropout.A.theta1.loss/train');
    expect(names).toContain('sweep.keep=0.5.loss/train');
    expect(names).toContain('narrow.width=4.acc/test');
    expect(m).toHaveLength(4 + 12 + 2 + 2 + 3);
    expect(m.find((x) => x.metric === 'path.linear.lossOverInterpolation' && x.split === 'test')).toMatchObject({ family: 'barrier', subject: 'linear', quantity: 'lossOverInterpolation', value: 0.5 });
    expect(m.find((x) => x.metric === 'narrow.width=4.acc' && x.split === 'test')).toMatchObject({ x: 4, value: 0.55 });
  });

  it('mean ± sample std over trials per group, with the individual values (hand-computed)', () => {
    expect(meanStd([1, 2, 3, 4])).toEqual({ mean: 2.5, std: Math.sqrt(5 / 3) });
    expect(meanStd([7])).toEqual({ mean: 7, std: null });
    expect(meanStd([])).toEqual({ mean: null, std: null });
    const cells: CellOutcome[] = [
      { index: 0, group: 0, trial: 0, settings: settings(8), runId: 'r0', doc: doc(1, 0.2, 0.1) },
      { index: 1, group: 0, trial: 1, settings: settings(8), runId: 'r1', doc: doc(3, 0.4, 0.3) },
      { index: 2, group: 1, trial: 0, settings: settings(16), runId: 'r2', doc: doc(2, 1, NaN) },
      { index: 3, group: 1, trial: 1, settings: settings(16), runId: null, doc: null },
    ];
    const rows = aggregateStudy(cells);
    const loss0 = rows.find((r) => r.group === 0 && r.metric === 'endpoint.A.loss' && r.split === 'train')!;
    expect(loss0).toMatchObject({ n: 2, mean: 2, settings: settings(8) });
    expect(loss0.std).toBeCloseTo(Math.SQRT2, 12); // (1, 3): sample variance 2
    expect(loss0.values).toEqual([{ cell: 0, trial: 0, run: 'r0', value: 1 }, { cell: 1, trial: 1, run: 'r1', value: 3 }]);
    const bar0 = rows.find((r) => r.group === 0 && r.metric === 'path.linear.lossOverInterpolation' && r.split === 'test')!;
    expect(bar0.mean).toBeCloseTo(0.6, 12); // (0.4 + 0.8) / 2
    expect(bar0.std).toBeCloseTo(Math.sqrt(0.08), 12); // ((0.2)² + (0.2)²) / 1
    const eps1 = rows.find((r) => r.group === 1 && r.metric === 'dropout.A.epsilon')!;
    expect(eps1).toMatchObject({ n: 0, mean: null, std: null, values: [{ cell: 2, trial: 0, run: 'r2', value: null }] });
    const loss1 = rows.find((r) => r.group === 1 && r.metric === 'endpoint.A.loss' && r.split === 'train')!;
    expect(loss1).toMatchObject({ n: 1, mean: 2, std: null });
  });

  it('writes the tidy CSV: study,cell,<axis columns>,trial,run,metric,split,value', () => {
    const cells: CellOutcome[] = [
      { index: 1, group: 0, trial: 1, settings: settings(8), runId: 'r1', doc: doc(3, 0.4, 0.3) },
      { index: 0, group: 0, trial: 0, settings: settings(8), runId: 'r0', doc: doc(1, 0.2, NaN) },
      { index: 2, group: 1, trial: 0, settings: settings(16), runId: null, doc: null },
    ];
    const lines = studyCsv('my "study"', ['architecture.hidden'], cells).trimEnd().split('\n');
    expect(lines[0]).toBe(studyCsvColumns(['architecture.hidden']).join(','));
    expect(lines[0]).toBe('study,cell,architecture.hidden,trial,run,metric,split,value');
    expect(lines[1]).toBe('"my ""study""",0,"[8,8]",0,r0,endpoint.A.loss,train,1');
    expect(lines).toContain('"my ""study""",0,"[8,8]",0,r0,dropout.A.epsilon,train,');
    expect(lines).toContain('"my ""study""",1,"[8,8]",1,r1,narrow.width=4.acc,test,0.55');
    expect(lines.filter((l) => l.includes(',r1,'))).toHaveLength(23);
    expect(lines).toHaveLength(1 + 2 * 23);
  });
});
