/**
 * The Slurm executor against a real single-node Slurm cluster (cluster.ts; root and Debian's Slurm packages, which
 * `.ci/run` installs): a three-cell study, one of whose cells fails at run time, followed to the end; its exit code
 * and log reported; collected twice without duplicates (also after a collect that stopped mid-import); the failed
 * cell resubmitted and collected. This cluster keeps no accounting (sacct answers nothing): the exit files and
 * `scontrol show job` tell what happened.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHistory } from '../../src-main/api/handlers';
import { InputError } from '../../src-main/engine/util/errors';
import type { HistoryStore } from '../../src-main/store/history';
import { STUDY_LAYOUT, cellFile } from '../../src-main/study/slurm/layout';
import {
  type SlurmCellStatus,
  collectSlurmStudy,
  followSlurmStudy,
  prepareSlurmStudy,
  resubmitSlurmStudy,
  slurmStudyStatus,
  submitSlurmStudy,
} from '../../src-main/study/slurm/executor';
import { SlurmExecutor } from '../../src-main/study/slurm/study-executor';
import { MODELAB_BIN } from '../../src-main/study/slurm/script';
import { planStudy, runStudy, storeStudy, studyDocument } from '../../src-main/study/coordinator';
import { loadStudyPreset } from '../../src-main/engine/study/presets';
import { findStudy } from '../../src-main/store/studies';
import { modelab } from '../cli/modelab';
import { type Cluster, startCluster } from './cluster';

/** Seconds of work: two 16-unit MLPs on 240 synthetic samples, one epoch, a 5-point line. */
const tiny = (seed: number): object => ({
  name: `slurm cell seed ${seed}`,
  seed,
  dataset: { name: 'gaussian-mixture', classes: 3, dim: 8, train: 240, test: 120, seed: 0 },
  architecture: { type: 'mlp', hidden: [16] },
  training: { optimizer: 'sgd', lr: 0.05, batchSize: 40, epochs: 1 },
  paths: [{ type: 'linear', name: 'line', points: 5 }],
  evaluation: { trainSamples: null, testSamples: null, batchSize: 500 },
});
/** A valid recipe that fails once it runs: CIFAR-10 without its data folder (exit code 2, one line in the log). */
const failing = { ...tiny(2), name: 'slurm cell without data', dataset: { name: 'cifar10' } };

let cluster: Cluster | null = null;
let tmp = '';
let dir = '';
let store: HistoryStore;

beforeAll(async () => {
  cluster = startCluster();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'modelab-slurm-study-'));
  dir = path.join(tmp, 'study');
  store = await openHistory({ db: path.join(tmp, 'history.sqlite') });
  // Inherited by the tasks (sbatch exports the submitting environment).
  process.env['MODELAB_BACKEND'] = 'cpu';
});
afterAll(async () => {
  await store?.close();
  cluster?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const byCell = (cells: SlurmCellStatus[]): Record<number, SlurmCellStatus> => Object.fromEntries(cells.map((c) => [c.cell, c]));
const runTotal = async (): Promise<number> => (await store.list()).total;

describe('a study on a real Slurm cluster', () => {
  let firstJob = '';

  it('runs every cell as a task of one array job; the failed cell has its exit code and its log', async () => {
    const script = prepareSlurmStudy(dir, [tiny(1), failing, tiny(3)], { partition: 'debug', time: '10:00', cpusPerTask: 1 });
    expect(script).toBe(path.join(dir, STUDY_LAYOUT.script));
    expect((await slurmStudyStatus(dir)).map((c) => c.state)).toEqual(['unsubmitted', 'unsubmitted', 'unsubmitted']);

    const sub = await submitSlurmStudy(dir);
    firstJob = sub.jobId;
    expect(sub).toEqual({ jobId: expect.stringMatching(/^\d+$/), cells: [0, 1, 2] });
    await expect(submitSlurmStudy(dir)).rejects.toThrow(/every cell of .* was submitted already/);

    const seen = new Set<string>();
    const end = byCell(await followSlurmStudy(dir, { intervalS: 0.5, onStatus: (cells) => cells.forEach((c) => seen.add(c.state)) }));
    expect(seen.has('unsubmitted')).toBe(false);
    expect(end[0]).toMatchObject({ state: 'done', task: `${firstJob}_0`, exitCode: 0 });
    expect(end[2]).toMatchObject({ state: 'done', task: `${firstJob}_2`, exitCode: 0 });
    expect(end[1]).toMatchObject({ state: 'failed', task: `${firstJob}_1`, exitCode: 2, reason: 'the run exited with code 2', log: path.join(dir, 'logs', `${firstJob}_1.log`) });
    const log = readFileSync(end[1]!.log!, 'utf8');
    // The run's own one-line error (its wording is the data loader's).
    expect(log).toMatch(/^modelab: CIFAR-10 /m);
    expect(log).toContain(`modelab study task ${firstJob}_1 exited with 2`);
    for (const c of [0, 2]) expect(existsSync(path.join(dir, 'runs', String(c), 'run.json'))).toBe(true);
  }, 300_000);

  it('collects the finished runs into the history once, however often it is called', async () => {
    const first = await collectSlurmStudy(dir, store);
    expect(first.imported.map((r) => r.cell)).toEqual([0, 2]);
    for (const r of first.imported) {
      const d = await store.get(r.runId);
      expect(d.status).toBe('finished');
      expect(d.name).toBe(`slurm cell seed ${r.cell + 1}`);
      expect(d.paths.map((p) => p.name)).toEqual(['line']);
    }
    expect(byCell(first.cells)[0]).toMatchObject({ state: 'collected', runId: first.imported[0]!.runId });
    expect(byCell(first.cells)[1]!.state).toBe('failed');
    expect(await runTotal()).toBe(2);

    const second = await collectSlurmStudy(dir, store);
    expect(second.imported).toEqual([]);
    expect(await runTotal()).toBe(2);

    // A collect that stopped after the import but before noting it: the run's id was noted first, so the next
    // collect finds the run in the history and imports nothing.
    const stateFile = path.join(dir, STUDY_LAYOUT.state);
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { collected: Record<string, { imported: boolean }> };
    state.collected[`${firstJob}_0`]!.imported = false;
    writeFileSync(stateFile, JSON.stringify(state));
    expect(byCell(await slurmStudyStatus(dir))[0]!.state).toBe('done');
    const third = await collectSlurmStudy(dir, store);
    expect(third.imported).toEqual([]);
    expect(byCell(third.cells)[0]).toMatchObject({ state: 'collected', runId: first.imported[0]!.runId });
    expect(await runTotal()).toBe(2);
  });

  it('resubmits only the failed cell; once fixed, it runs and is collected, and the failed attempt keeps its log', async () => {
    await expect(resubmitSlurmStudy(dir, [0])).rejects.toThrow('cell 0 is collected, not failed: only failed cells are resubmitted');
    await expect(resubmitSlurmStudy(dir, [7])).rejects.toThrow('the study has cells 0–2, not 7');
    writeFileSync(cellFile(dir, 1), JSON.stringify(tiny(2)));
    const again = await resubmitSlurmStudy(dir);
    expect(again.cells).toEqual([1]);
    expect(again.jobId).not.toBe(firstJob);

    const end = byCell(await followSlurmStudy(dir, { intervalS: 0.5 }));
    expect(end[1]).toMatchObject({ state: 'done', task: `${again.jobId}_1`, exitCode: 0, log: path.join(dir, 'logs', `${again.jobId}_1.log`) });
    expect(existsSync(path.join(dir, 'logs', `${firstJob}_1.log`))).toBe(true);
    // The other cells were not run again.
    expect(existsSync(path.join(dir, 'logs', `${again.jobId}_0.log`))).toBe(false);

    const c = await collectSlurmStudy(dir, store);
    expect(c.imported.map((r) => r.cell)).toEqual([1]);
    expect(c.cells.map((x) => x.state)).toEqual(['collected', 'collected', 'collected']);
    expect(await runTotal()).toBe(3);
    await expect(resubmitSlurmStudy(dir)).rejects.toThrow('no cell failed: nothing to resubmit');
  }, 300_000);

  it('says in one line why sbatch refused a study, which can then be prepared again and submitted', async () => {
    const refused = path.join(tmp, 'refused');
    prepareSlurmStudy(refused, [tiny(6)], { partition: 'nosuch' });
    const err = (await submitSlurmStudy(refused).then(
      () => null,
      (e: unknown) => e,
    )) as Error;
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toMatch(/^sbatch refused the study's job: .*invalid partition/i);
    expect(err.message).not.toContain('\n');
    prepareSlurmStudy(refused, [tiny(6)], { partition: 'debug' });
    const { jobId } = await submitSlurmStudy(refused);
    expect(() => prepareSlurmStudy(refused, [tiny(6)], {})).toThrow(/already holds a submitted Slurm study/);
    expect((await followSlurmStudy(refused, { intervalS: 0.5 }))[0]).toMatchObject({ state: 'done', task: `${jobId}_0` });
  }, 300_000);

  it('reports a run folder the history refuses as a failed cell, and runs it again when resubmitted', async () => {
    const damaged = path.join(tmp, 'damaged');
    prepareSlurmStudy(damaged, [tiny(5)], {});
    const { jobId } = await submitSlurmStudy(damaged);
    expect((await followSlurmStudy(damaged, { intervalS: 0.5 }))[0]!.state).toBe('done');
    writeFileSync(path.join(damaged, 'runs', '0', 'run.json'), '{"name": ');
    const c = await collectSlurmStudy(damaged, store);
    expect(c.imported).toEqual([]);
    expect(c.cells[0]).toMatchObject({ state: 'failed', task: `${jobId}_0`, exitCode: 0 });
    expect(c.cells[0]!.reason).toMatch(/^its run folder cannot be imported: .*run\.json/);
    const total = await runTotal();
    const again = await resubmitSlurmStudy(damaged);
    await followSlurmStudy(damaged, { intervalS: 0.5 });
    expect((await collectSlurmStudy(damaged, store)).imported).toEqual([{ cell: 0, task: `${again.jobId}_0`, runId: expect.any(String) }]);
    expect(await runTotal()).toBe(total + 1);
  }, 300_000);

  it('reports a task killed before it wrote its exit code by what Slurm says (scancel: CANCELLED)', async () => {
    const killed = path.join(tmp, 'killed');
    // A "modelab" that never finishes: the task is cancelled while it runs.
    prepareSlurmStudy(killed, [tiny(4)], { command: ['bash', '-c', 'sleep 600', 'modelab'] });
    const { jobId } = await submitSlurmStudy(killed);
    await followUntil(killed, (c) => c.state === 'running');
    const { execFileSync } = await import('node:child_process');
    execFileSync('scancel', [jobId]);
    const end = await followSlurmStudy(killed, { intervalS: 0.5 });
    expect(end[0]).toMatchObject({ state: 'failed', task: `${jobId}_0`, slurmState: 'CANCELLED' });
    expect(end[0]!.reason).toMatch(/^Slurm reports CANCELLED.*; the task wrote no exit code$/);
  }, 300_000);
});

// One file for every test on the cluster: it is one cluster per machine (cluster.ts), and test files run in parallel.
describe('modelab study run --executor slurm (the coordinator with the Slurm executor)', () => {
  it('runs a study on the cluster, records a failed task as a failed run of its cell, and finishes it when run again', async () => {
    const study = await storeStudy(store, await planStudy(loadStudyPreset('smoke-study', { quick: true }), {}), 'slurm');
    const folder = path.join(tmp, 'smoke-study');
    const fixed = path.join(tmp, 'fixed');
    // Cell 1 fails (exit 3, an error line in its log) until `fixed` exists; the others run this installation.
    const script = `if [ "$SLURM_ARRAY_TASK_ID" = 1 ] && [ ! -e ${fixed} ]; then echo "modelab: cell 1 failed on purpose" >&2; exit 3; fi; exec "$0" "$@"`;
    const executor = new SlurmExecutor({ dir: folder, intervalS: 0.5, command: ['bash', '-c', script, process.execPath, MODELAB_BIN] });
    const first = await runStudy(store, study.id, { executor, pollMs: 200 });
    expect(first.status).toBe('failed');
    let doc = await studyDocument(store, study.id);
    expect(doc.study.executorState).toEqual({ dir: folder });
    expect(doc.cells.map((c) => c.state)).toEqual(['finished', 'failed']);
    expect(doc.cells[1]!.error).toMatch(/^Slurm task (\d+)_1: the run exited with code 3 \(cell 1 failed on purpose\); log .*\/smoke-study\/logs\/\1_1\.log$/);
    expect(doc.table.length).toBeGreaterThan(0);
    const runs = await runTotal();

    // collect (a later process: `modelab study collect`) finds nothing new, and records the failure once.
    expect(await new SlurmExecutor().collect({ store, study: await findStudy(store.db, study.id) })).toEqual({ imported: 0 });
    expect(await runTotal()).toBe(runs);
    expect((await studyDocument(store, study.id)).cells[1]!.attempts).toHaveLength(1);

    writeFileSync(fixed, '');
    const second = await runStudy(store, study.id, { executor: new SlurmExecutor({ intervalS: 0.5 }), pollMs: 200 });
    expect(second.status).toBe('finished');
    doc = await studyDocument(store, study.id);
    expect(doc.cells.map((c) => c.state)).toEqual(['finished', 'finished']);
    // Cell 0 was not run again; cell 1 has its failed attempt and its finished run.
    expect(doc.cells[0]!.attempts).toHaveLength(1);
    expect(doc.cells[1]!.attempts).toHaveLength(2);
    expect((await store.get(doc.cells[1]!.runId!)).status).toBe('finished');
    expect(await runTotal()).toBe(runs + 1);
  }, 300_000);
});

describe('modelab study run --executor slurm (the command line)', () => {
  it('plans, submits, follows and collects a study; collecting again adds nothing', async () => {
    const db = path.join(tmp, 'cli.sqlite');
    const folder = path.join(tmp, 'cli-study');
    const r = await modelab(['study', 'run', '--preset', 'smoke-study', '--quick', '--executor', 'slurm', '--slurm-dir', folder, '--partition', 'debug', '--time', '10:00', '--json', '--db', db], { timeoutMs: 280_000 });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { study: { id: string; executor: string; executorState: unknown }; cells: { state: string; runId: string }[] };
    expect(doc.study.executor).toBe('slurm');
    expect(doc.study.executorState).toEqual({ dir: folder });
    expect(doc.cells.map((c) => c.state)).toEqual(['finished', 'finished']);
    const script = readFileSync(path.join(folder, STUDY_LAYOUT.script), 'utf8');
    expect(script).toContain('#SBATCH --partition=debug\n');
    expect(script).toContain('#SBATCH --time=10:00\n');

    const c = await modelab(['study', 'collect', doc.study.id, '--json', '--db', db]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toContain(`study ${doc.study.id}: 0 runs collected`);
    const list = await modelab(['list', '--json', '--db', db]);
    expect((JSON.parse(list.stdout) as { total: number }).total).toBe(2);
  }, 300_000);
});

/** Polls until `ok` holds for the first cell (a bounded number of polls, not a time limit on the cluster). */
async function followUntil(dir: string, ok: (c: SlurmCellStatus) => boolean): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (ok((await slurmStudyStatus(dir))[0]!)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the task never got there');
}
