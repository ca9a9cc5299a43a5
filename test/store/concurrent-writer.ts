/** A second process writing to a history (concurrency test): N synthetic runs with artifacts, then exits 0. */
import { HistoryStore } from '../../src-main/store/history';
import { syntheticRun } from './helpers';

const [db, n, tag] = process.argv.slice(2);
const store = await HistoryStore.open({ db: db! });
for (let i = 0; i < Number(n); i++) {
  // Shared seeds: both processes place and reference the same artifact files at the same time.
  await syntheticRun(store, { name: `${tag} ${i}`, tags: [tag!], seeds: [i % 3, 100 + (i % 2)] });
  if (i % 5 === 0) await store.list({ tags: [tag!], limit: 5 });
}
await store.close();
