/** Studies in the history: migration 7 on an existing history, the study record, links to runs, claims, deletion. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ResolvedStudy, resolveStudy } from '../../src-main/engine/study/expand';
import { HistoryStore } from '../../src-main/store/history';
import {
  cellStates,
  claimStudy,
  countStates,
  createStudy,
  deleteStudyRow,
  findStudy,
  linkRun,
  listStudies,
  releaseStudy,
  studyRuns,
} from '../../src-main/store/studies';
import { databaseFromSql, tempDir } from '../store/helpers';

const fixtures = path.resolve(import.meta.dirname, '../fixtures/store');
const recipe = (): ResolvedStudy =>
  resolveStudy({ name: 'sweep', base: { config: { name: 'x', dataset: { name: 'gaussian-mixture' }, architecture: { type: 'mlp', hidden: [4] }, training: { epochs: 1 } } }, axes: [{ field: 'training.epochs', values: [1, 2] }], trials: 2 }, 'test');

describe('studies in the history', () => {
  let t: ReturnType<typeof tempDir>;
  let store: HistoryStore;
  beforeEach(async () => {
    t = tempDir();
    // An existing version 6 history (its runs kept) migrated to studies.
    const file = path.join(t.dir, 'history.sqlite');
    await databaseFromSql(file, readFileSync(path.join(fixtures, 'v6.sql'), 'utf8'));
    store = await HistoryStore.open({ db: file });
  });
  afterEach(async () => {
    await store.close();
    t.cleanup();
  });

  it('migrates a version 6 history: its runs kept, no studies yet, and runs can join a study', async () => {
    expect(await listStudies(store.db)).toEqual([]);
    expect((await store.list()).total).toBe(4);
    const id = await createStudy(store.db, { recipe: recipe(), cells: 4, executor: 'local' });
    await linkRun(store.db, id, 0, 0, '01fixture0000001');
    await linkRun(store.db, id, 1, 1, '01fixture0000002');
    await linkRun(store.db, id, 1, 1, '01fixture0000004');
    const links = await studyRuns(store.db, id);
    expect(links.map((l) => [l.cell, l.runId, l.status])).toEqual([
      [0, '01fixture0000001', 'finished'],
      [1, '01fixture0000002', 'failed'],
      [1, '01fixture0000004', 'cancelled'],
    ]);
    // A cell's state is its latest attempt's.
    const states = cellStates(links, 4);
    expect(states).toEqual(['finished', 'cancelled', 'pending', 'pending']);
    expect(countStates(states)).toMatchObject({ finished: 1, cancelled: 1, pending: 2, failed: 0 });
    const s = await findStudy(store.db, id);
    expect(s).toMatchObject({ id, name: 'sweep', cells: 4, status: 'created', executor: 'local', coordinator: null, cancelRequested: false });
    expect(s.recipe).toEqual(recipe());
    // Deleting a run removes its link; deleting the study removes the rest and keeps the runs.
    await store.delete(['01fixture0000004']);
    expect(cellStates(await studyRuns(store.db, id), 4)[1]).toBe('failed');
    await deleteStudyRow(store.db, id);
    expect(await store.db.all('SELECT * FROM study_runs')).toEqual([]);
    expect((await store.list()).total).toBe(3);
  });

  it('creates a cell’s run and its link in one transaction: both or neither', async () => {
    const id = await createStudy(store.db, { recipe: recipe(), cells: 4, executor: 'local' });
    const run = await store.createRun({ name: 'cell 2', preset: null, config: { name: 'cell 2' }, alongside: (sql, r) => linkRun(sql, id, 2, 0, r) });
    expect((await studyRuns(store.db, id)).map((l) => [l.cell, l.runId, l.status])).toEqual([[2, run, 'queued']]);
    const total = (await store.list()).total;
    // A link that cannot be written (no such study) takes the run with it.
    await expect(store.createRun({ name: 'orphan', preset: null, config: { name: 'orphan' }, alongside: (sql, r) => linkRun(sql, 'no-such-study', 0, 0, r) })).rejects.toThrow(/FOREIGN KEY/);
    expect((await store.list()).total).toBe(total);
  });

  it('finds a study by id, id prefix or name (the newest), and says which one is missing in one line', async () => {
    const a = await createStudy(store.db, { recipe: recipe(), cells: 4, executor: 'local' });
    expect((await findStudy(store.db, a.slice(0, 6))).id).toBe(a);
    expect((await findStudy(store.db, 'sweep')).id).toBe(a);
    await expect(findStudy(store.db, 'nope')).rejects.toThrow("no study 'nope' (modelab study list shows them)");
  });

  it('lets one live process coordinate a study at a time', async () => {
    const id = await createStudy(store.db, { recipe: recipe(), cells: 4, executor: 'local' });
    await claimStudy(store.db, id, 'local');
    expect((await findStudy(store.db, id)).coordinator).toMatchObject({ pid: process.pid });
    // Another live process (the test's parent) holds it: refused.
    await store.db.run('UPDATE studies SET coordinator_pid = ? WHERE id = ?', [process.ppid, id]);
    await expect(claimStudy(store.db, id, 'local')).rejects.toThrow(new RegExp(`being run by process ${process.ppid}`));
    // A coordinator that is gone (no such pid) is taken over.
    await store.db.run('UPDATE studies SET coordinator_pid = 2147483646 WHERE id = ?', [id]);
    await claimStudy(store.db, id, 'local');
    await releaseStudy(store.db, id, 'finished');
    expect(await findStudy(store.db, id)).toMatchObject({ coordinator: null, status: 'finished' });
  });
});
