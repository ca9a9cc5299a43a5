/** The history table's queries, owned by the store (store/listing.ts): path briefs, architectures, tag counts. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryStore } from '../../src-main/store/history';
import { architectures, pathBriefs, tagCounts } from '../../src-main/store/listing';
import { syntheticRun, tempStore } from './helpers';

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
    expect(briefs.get(finished)).toEqual([{ name: 'linear', kind: 'linear', pass: true, trainBarrier: 0.3, testBarrier: 0.3 }]);
    expect(briefs.has(queued)).toBe(false);
    expect((await pathBriefs(store.db, [])).size).toBe(0);
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
