/** Training-curve points keep their test metrics in the history (migration 5); points without them read back without
 *  the fields (runs from before, BatchNorm networks). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HistoryStore } from '../../src-main/store/history';
import { tempStore } from './helpers';

describe('curve points with test metrics', () => {
  let store: HistoryStore;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ store, cleanup } = await tempStore());
  });
  afterEach(async () => cleanup());

  it('store testLoss/testAcc where measured, and omit them where not', async () => {
    const id = await store.createRun({ name: 'r', preset: null, config: { name: 'r' } });
    await store.appendCurve(id, 'A', [
      { step: 1, epoch: 0.1, lr: 0.1, loss: 1.2, acc: 0.4, testLoss: 1.1, testAcc: 0.45 },
      { step: 2, epoch: 0.2, lr: 0.1, loss: 0.9, acc: 0.6, testLoss: 0.95, testAcc: 0.55 },
    ]);
    await store.appendCurve(id, 'B', [{ step: 1, epoch: 0.1, lr: 0.1, loss: 1, acc: 0.5 }]);
    const d = await store.get(id);
    expect(d.curves['A']).toEqual([
      { step: 1, epoch: 0.1, lr: 0.1, loss: 1.2, acc: 0.4, testLoss: 1.1, testAcc: 0.45 },
      { step: 2, epoch: 0.2, lr: 0.1, loss: 0.9, acc: 0.6, testLoss: 0.95, testAcc: 0.55 },
    ]);
    expect(d.curves['B']).toEqual([{ step: 1, epoch: 0.1, lr: 0.1, loss: 1, acc: 0.5 }]);
  });
});
