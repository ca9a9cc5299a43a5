/** The history table's queries, owned by the store (store/listing.ts): path briefs, architectures, tag counts. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryStore } from '../../src-main/store/history';
import { architectures, pathBriefs, tagCounts } from '../../src-main/store/listing';
import type { PathResult } from '../../src-main/engine/experiment/result';
import { pathResult, syntheticRun, tempStore } from './helpers';

let t: Awaited<ReturnType<typeof tempStore>>;
let store: HistoryStore;
let finished = '';
let queued = '';
let bare = '';

beforeAll(async () => {
  t = await tempStore();
  store = t.store;
  finished = await syntheticRun(store, { name: 'done', tags: ['paper', 'wide'] });
  await syntheticRun(store, { name: 'again', seeds: [3, 4], tags: ['paper'] });
  queued = await store.createRun({ name: 'waiting', preset: null, config: { name: 'waiting', architecture: { type: 'cnn' } }, tags: ['wide'] });
  bare = await store.createRun({ name: 'bare', preset: null, config: { name: 'bare' } });
});
afterAll(async () => t.cleanup());

describe('store listing queries', () => {
  it("gives each run's paths in recipe order with their check and barriers; runs without paths are absent", async () => {
    const briefs = await pathBriefs(store.db, [finished, queued]);
    expect(briefs.get(finished)).toEqual([{ name: 'linear', kind: 'linear', state: 'pass', trainBarrier: 0.3, testBarrier: 0.3 }]);
    expect(briefs.has(queued)).toBe(false);
    expect((await pathBriefs(store.db, [])).size).toBe(0);
  });

  it("gives each path's check state as saved: a WARNING stays a warning (not a fail), a path without a check null", async () => {
    const id = await syntheticRun(store, { name: 'checks' });
    const warned = { ...pathResult('theorem2'), check: { state: 'warning', pass: false } } as unknown as PathResult;
    const failed = { ...pathResult('theorem3'), check: { state: 'fail', pass: false } } as unknown as PathResult;
    const older = { ...pathResult('theorem1'), check: { pass: false } } as unknown as PathResult; // before check.state
    const none = { ...pathResult('plain'), check: undefined } as unknown as PathResult;
    for (const [k, p] of [warned, failed, older, none].entries()) await store.savePath(id, k + 1, p);
    expect((await pathBriefs(store.db, [id])).get(id)!.map((b) => [b.name, b.state])).toEqual([
      ['linear', 'pass'],
      ['theorem2', 'warning'],
      ['theorem3', 'fail'],
      ['theorem1', 'fail'],
      ['plain', null],
    ]);
  });

  it("names the architecture from the environment once set up, else from the recipe's type, else null", async () => {
    const arch = await architectures(store.db, [finished, queued, bare]);
    expect(arch.get(finished)).toBe('test');
    expect(arch.get(queued)).toBe('CNN');
    expect(arch.get(bare)).toBeNull();
  });

  it('counts the runs carrying each tag, by tag', async () => {
    expect(await tagCounts(store.db)).toEqual([
      { tag: 'paper', runs: 2 },
      { tag: 'wide', runs: 2 },
    ]);
  });
});
