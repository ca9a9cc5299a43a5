/**
 * `modelab study` end to end, through the real CLI on the smoke-study preset (2 widths × 2 trials of a tiny synthetic
 * run): --json, resume after the coordinator is SIGKILLed, cancel from another process, export, delete.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StudyDocument } from '../../src-main/study/coordinator';
import { HistoryStore } from '../../src-main/store/history';
import { findStudy, listStudies, studyRuns } from '../../src-main/store/studies';
import { bin, modelab, root } from '../cli/modelab';
import { tempDir } from '../store/helpers';
import { longStudy } from './long-study';

const oneLine = (s: string): void => expect(s.trim().split('\n')).toHaveLength(1);

describe('modelab study', () => {
  let t: ReturnType<typeof tempDir>;
  let db: string;
  beforeAll(() => {
    t = tempDir('modelab-study-');
    db = path.join(t.dir, 'history.sqlite');
  });
  afterAll(() => t.cleanup());

  /** Spawns `study run …`; resolves its study id once `ready(store, id)` holds, with the process to act on. */
  async function started(args: string[], ready: (store: HistoryStore, id: string) => Promise<boolean>) {
    const cli = spawn(process.execPath, [bin, 'study', 'run', ...args, '--backend', 'cpu', '--db', db], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    cli.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    cli.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => cli.on('exit', (code) => resolve(code)));
    const store = await HistoryStore.open({ db });
    try {
      for (let k = 0; ; k++) {
        if (k > 1200) throw new Error(`study never got ready: ${stderr}`);
        await sleep(100);
        const id = /^study ([0-9a-z]{16}) /m.exec(stderr)?.[1];
        if (id && (await ready(store, id))) return { cli, id, exited, out: () => ({ stdout, stderr }) };
      }
    } finally {
      await store.close();
    }
  }

  it('runs a study of 2 axis values × 2 trials and prints one document: the study, its cells, the table', async () => {
    const r = await modelab(['study', 'run', '--preset', 'smoke-study', '--backend', 'cpu', '--json', '--db', db]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^study smoke-study: 4 cells \(2 architecture\.hidden × 2 trials\); /m);
    const doc = JSON.parse(r.stdout) as StudyDocument;
    expect(doc.schema).toBe('modelab.study/1');
    expect(doc.study).toMatchObject({ name: 'smoke-study', status: 'finished', cells: 4, axes: ['architecture.hidden'], trials: 2, live: false });
    expect(doc.study.counts.finished).toBe(4);
    expect(doc.cells.map((c) => [c.index, c.label, c.trial, c.state])).toEqual([
      [0, 'architecture.hidden=[8,8]', 0, 'finished'],
      [1, 'architecture.hidden=[8,8]', 1, 'finished'],
      [2, 'architecture.hidden=[16,16]', 0, 'finished'],
      [3, 'architecture.hidden=[16,16]', 1, 'finished'],
    ]);
    // Each cell an ordinary run with its width and its trial's seed; trials differ, combinations share seeds.
    const shown = JSON.parse((await modelab(['show', doc.cells[2]!.runId!, '--json', '--db', db])).stdout) as { config: { seed: number; architecture: { hidden: number[] } } };
    expect(shown.config.architecture.hidden).toEqual([16, 16]);
    expect(shown.config.seed).toBe(doc.cells[2]!.seed);
    expect(doc.cells[0]!.seed).toBe(doc.cells[2]!.seed);
    expect(doc.cells[0]!.seed).not.toBe(doc.cells[1]!.seed);
    // The table: per width, mean ± std over the 2 trials of the runs' own numbers.
    const row = doc.table.find((x) => x.group === 1 && x.metric === 'path.linear.lossOverInterpolation' && x.split === 'test')!;
    expect(row.n).toBe(2);
    const docs = await Promise.all(row.values.map(async (v) => JSON.parse((await modelab(['show', v.run, '--json', '--db', db])).stdout) as { paths: { barrier: { test: { lossOverInterpolation: { value: number } } } }[] }));
    const xs = docs.map((d) => d.paths[0]!.barrier.test.lossOverInterpolation.value);
    expect(row.values.map((v) => v.value)).toEqual(xs);
    expect(row.mean).toBeCloseTo((xs[0]! + xs[1]!) / 2, 12);
    expect(row.std).toBeCloseTo(Math.abs(xs[0]! - xs[1]!) / Math.SQRT2, 12);

    // The tidy CSV.
    const csv = path.join(t.dir, 'study.csv');
    const e = await modelab(['study', 'export', doc.study.id, '--csv', csv, '--db', db]);
    expect(e.code, e.stderr).toBe(0);
    const lines = readFileSync(csv, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('study,cell,architecture.hidden,trial,run,metric,split,value');
    expect(lines[1]).toBe(`smoke-study,0,"[8,8]",0,${doc.cells[0]!.runId},endpoint.A.loss,train,${doc.table[0]!.values[0]!.value}`);
    expect(lines).toHaveLength(1 + 4 * 20);

    const list = await modelab(['study', 'list', '--db', db]);
    expect(list.stdout).toMatch(new RegExp(`${doc.study.id}\\s+smoke-study\\s+finished\\s+4/4 done`));
    const show = await modelab(['study', 'show', 'smoke-study', '--db', db]);
    expect(show.stdout).toMatch(/mean ± std over trials \(n\):/);
    expect(show.stdout).toMatch(/path\.linear\.lossOverInterpolation\s+test\s+\S+ ± \S+ \(2\)\s+\S+ ± \S+ \(2\)/);
  });

  it('after the coordinator is SIGKILLed, running the study again finishes the rest without redoing finished cells', async () => {
    const firstDone = async (store: HistoryStore, id: string): Promise<boolean> => (await studyRuns(store.db, id)).some((l) => l.status === 'finished');
    const s = await started(['--preset', 'smoke-study', '--jobs', '1'], firstDone);
    s.cli.kill('SIGKILL');
    await s.exited;
    const store = await HistoryStore.open({ db });
    let before;
    try {
      before = (await studyRuns(store.db, s.id)).filter((l) => l.status === 'finished');
      expect(before.length).toBeGreaterThan(0);
      expect(before.length).toBeLessThan(4);
    } finally {
      await store.close();
    }
    const r = await modelab(['study', 'run', s.id, '--backend', 'cpu', '--json', '--db', db]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/: resuming/);
    const doc = JSON.parse(r.stdout) as StudyDocument;
    expect(doc.study.counts.finished).toBe(4);
    // The cells finished before the kill kept their one run; the one killed mid-run crashed and ran again.
    for (const b of before) expect(doc.cells[b.cell]).toMatchObject({ runId: b.runId, attempts: [b.runId] });
    const after = await HistoryStore.open({ db });
    try {
      const links = await studyRuns(after.db, s.id);
      const finishedRuns = links.filter((l) => l.status === 'finished');
      expect(finishedRuns).toHaveLength(4);
      // At most the one cell running at the kill was tried twice; its first run is recorded crashed.
      const others = links.filter((l) => l.status !== 'finished');
      expect(others.length).toBeLessThanOrEqual(1);
      for (const o of others) expect(o).toMatchObject({ status: 'crashed', error: expect.stringMatching(/process coordinating study .* stopped|job process/) });
    } finally {
      await after.close();
    }
  });

  it('cancel from another process stops the study and its running cell', async () => {
    const running = async (store: HistoryStore, id: string): Promise<boolean> => (await studyRuns(store.db, id)).some((l) => l.status === 'running');
    // Cells that run long: the cancel reaches one mid-training.
    const cfg = path.join(t.dir, 'long-study.json');
    writeFileSync(cfg, JSON.stringify(longStudy('long-study')));
    const s = await started(['--config', cfg, '--jobs', '1'], running);
    const c = await modelab(['study', 'cancel', s.id, '--db', db]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/cancel requested; 1 running cell asked to stop/);
    expect(await s.exited, s.out().stderr).toBe(130);
    expect(s.out().stderr).toMatch(new RegExp(`modelab: study ${s.id} cancelled`));
    const store = await HistoryStore.open({ db });
    try {
      expect((await findStudy(store.db, s.id)).status).toBe('cancelled');
      const links = await studyRuns(store.db, s.id);
      expect(links.map((l) => l.status)).toEqual(['cancelled']);
    } finally {
      await store.close();
    }
  });

  it('delete asks what happens to the runs, then keeps or deletes them', async () => {
    const store = await HistoryStore.open({ db });
    const studies = await listStudies(store.db);
    const runsOf = async (id: string) => (await studyRuns(store.db, id)).map((l) => l.runId);
    const [cancelled, resumed] = [studies[0]!, studies[1]!];
    const keptRuns = await runsOf(resumed.id);
    const goneRuns = await runsOf(cancelled.id);
    await store.close();
    const refuse = await modelab(['study', 'delete', resumed.id, '--db', db]);
    expect(refuse.code).toBe(2);
    oneLine(refuse.stderr);
    expect(refuse.stderr).toMatch(/--with-runs deletes them too, --keep-runs keeps them/);
    const keep = await modelab(['study', 'delete', resumed.id, '--keep-runs', '--db', db]);
    expect(keep.code, keep.stderr).toBe(0);
    const withRuns = await modelab(['study', 'delete', cancelled.id, '--with-runs', '--db', db]);
    expect(withRuns.code, withRuns.stderr).toBe(0);
    expect(withRuns.stdout).toMatch(/and its 1 run/);
    const after = await HistoryStore.open({ db });
    try {
      expect((await listStudies(after.db)).map((s) => s.id)).not.toContain(resumed.id);
      for (const id of keptRuns) expect(await after.exists(id)).toBe(true);
      for (const id of goneRuns) expect(await after.exists(id)).toBe(false);
    } finally {
      await after.close();
    }
  });

  it('refuses a bad study in one line before anything is stored', async () => {
    const cfg = path.join(t.dir, 'bad.json');
    const base = JSON.parse(readFileSync(path.join(root, 'resources/studies/smoke-study.json'), 'utf8')) as { base: unknown };
    const store = await HistoryStore.open({ db });
    const count = (await listStudies(store.db)).length;
    await store.close();
    for (const [doc, msg] of [
      [{ base: base.base, axes: [{ field: 'architecture.widths', values: [[4]] }] }, /cell 0 \(architecture\.widths=\[4\]\): .*widths/],
      [{ base: base.base, axes: [{ field: 'trainig.epochs', values: [1] }] }, /unknown field 'trainig\.epochs': the recipe has no 'trainig'/],
      [{ base: base.base, axes: [{ field: 'training.epochs', values: [0] }] }, /cell 0 \(training\.epochs=0\): training\.epochs: /],
      [{ base: base.base, trials: 0 }, /trials: /],
    ] as const) {
      writeFileSync(cfg, JSON.stringify(doc));
      const r = await modelab(['study', 'run', '--config', cfg, '--db', db]);
      expect(r.code, r.stderr).toBe(2);
      oneLine(r.stderr);
      expect(r.stderr).toMatch(msg);
    }
    const after = await HistoryStore.open({ db });
    expect((await listStudies(after.db)).length).toBe(count);
    await after.close();
  });
});
