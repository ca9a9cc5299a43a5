/**
 * `modelab study`: many runs as one (docs/studies.md). `study run` plans a study (every cell validated and checked to
 * fit, the time estimated from this machine's bench), stores it and runs its cells — or resumes a stored one — with
 * one progress line; `list`, `show`, `cancel`, `collect`, `export` and `delete` work on stored studies.
 */
import { writeFileSync } from 'node:fs';
import { roughDuration } from '../engine/recipe/estimate';
import { type AggregateRow, studyCsv } from '../engine/study/aggregate';
import { type ResolvedStudy, settingsLabel } from '../engine/study/expand';
import { listStudyPresets, loadStudyFile, loadStudyPreset } from '../engine/study/presets';
import { CancelledError, InputError } from '../engine/util/errors';
import { checkBackend, openHistory } from '../api/handlers';
import { checkDatasetFiles } from '../engine/data/load';
import { isCounterexample } from '../engine/recipe/schema';
import { JobRunner } from '../jobs/runner';
import { parseWorkerCount, sharedJobEnv } from '../jobs/parallelism';
import { storageError } from '../store/errors';
import type { HistoryStore } from '../store/history';
import { findStudy, listStudies } from '../store/studies';
import { type StudyDocument, type StudyPlan, type StudyProgress, cancelStudy, cellOutcomes, deleteStudy, listStudySummaries, planStudy, runStudy, storeStudy, studyDocument } from '../study/coordinator';
import { countsText, studyState } from '../study/study-text';
import { EXECUTOR_KINDS, type ExecutorKind, type StudyExecutor } from '../study/executor';
import { LocalExecutor } from '../study/local-executor';
import { SlurmExecutor, type SlurmExecutorOptions } from '../study/slurm/study-executor';
import { SLURM_CLI_HELP, SLURM_CLI_OPTIONS, hasSlurmOptions, slurmOptionsFrom } from './study-slurm-options';
import { parse } from './args';
import { formatDuration } from './progress';
import { table } from './table';
import { terminalText } from './terminal-text';

export const STUDY_HELP = `Usage: modelab study <command> [options]   (docs/studies.md)

A study is many runs as one: a base recipe, axes that set recipe fields to lists of values, and trials (seeds) of
every combination. Each cell is an ordinary run in the history, linked to its study.

Commands:
  run (--preset NAME | --config FILE | ID)   plan, store and run a study; with a study's ID or name, resume it:
                       finished cells are kept, failed, crashed and cancelled ones run again
  presets              the built-in study presets (resources/studies/)
  list                 the stored studies, newest first
  show ID              a study: its cells and the mean ± std over trials of every metric
  cancel ID            stop a study's coordinator and every running cell (from any process)
  collect ID           bring finished cells into the history (batch executors), then show the study
  export ID [--csv FILE]   the tidy CSV (study,cell,<axis columns>,trial,run,metric,split,value) to FILE
                       or stdout; --json: the study document
  delete ID (--with-runs | --keep-runs)   delete a study, with its runs or keeping them in the history

Options of study run:
  --preset NAME        a study preset (modelab study presets lists them)
  --config FILE        a study recipe JSON file (docs/studies.md, "The study recipe")
  --quick              the recipe's quick variant (its "quick" section says what it reduces)
  --executor KIND      ${EXECUTOR_KINDS.join(' or ')} (default local: this machine)
  --jobs N             cells at once (default: the cores ÷ the processes one cell computes with)
  --backend NAME       the backend every cell uses (default: MODELAB_BACKEND, else the fastest available)
  --data DIR           dataset folder (CIFAR-10 binary batches), checked before anything starts
  --json               print one document on stdout at the end: the study, its cells, the aggregated table
                       (progress stays on stderr)
  --db FILE            the history database (default: $MODELAB_HOME/history.sqlite)

${SLURM_CLI_HELP}

Every cell is validated and checked to fit this machine before anything starts; the cell count and the estimated
time (from this machine's bench: modelab bench --quick) are printed first. Ctrl-C cancels (cells stop within a
training step); running the study again (modelab study run ID) finishes what is left.

Exit codes: 0 every cell finished, 1 a cell failed or crashed, 2 bad input, 130 cancelled.`;

const DB = { db: { type: 'string' } } as const;
const HELP = { help: { type: 'boolean', short: 'h' } } as const;

async function withStore<T>(db: string | undefined, f: (store: HistoryStore) => Promise<T>): Promise<T> {
  const store = await openHistory({ db });
  try {
    return await f(store);
  } finally {
    await store.close();
  }
}

function oneRef(positionals: string[], usage: string): string {
  if (positionals.length !== 1) throw new InputError(`usage: modelab study ${usage}`);
  return positionals[0]!;
}


/** The one progress line of a running study. */
export function progressLine(p: StudyProgress): string {
  const eta = p.etaSeconds === null ? 'ETA unknown' : p.etaSeconds === 0 ? `done in ${formatDuration(p.elapsedSeconds)}` : `ETA ${formatDuration(p.etaSeconds)}`;
  return `study ${p.name}: ${countsText(p)}  ${eta}`;
}

function planText(plan: StudyPlan, executor: ExecutorKind): string {
  const s = plan.study;
  const e = plan.estimate;
  const shape = [...s.axes.map((a) => `${a.values.length} ${a.field}`), `${s.trials} trial${s.trials === 1 ? '' : 's'}`].join(' × ');
  const time =
    e.seconds === null
      ? `time: ${e.note ?? 'not estimated'}${e.note?.startsWith('no timing') ? ' (modelab bench --quick measures this machine)' : ''}`
      : `about ${roughDuration(e.seconds)} (${roughDuration(e.cellSeconds!)} a cell, ${e.parallel} at once${executor === 'local' ? '' : ` here; the ${executor} executor's own time differs`})`;
  return `study ${s.name}: ${e.cells} cell${e.cells === 1 ? '' : 's'} (${shape}); ${time}`;
}

const meanText = (r: AggregateRow): string => (r.mean === null ? '–' : `${r.mean.toPrecision(4)}${r.std === null ? '' : ` ± ${r.std.toPrecision(2)}`} (${r.n})`);

/** The study as text: header, cells, and metric × combination of mean ± std (n). */
export function studyText(d: StudyDocument): string {
  const s = d.study;
  const state = studyState(s) === 'interrupted' ? 'interrupted (modelab study run ID finishes it)' : s.status;
  const lines = [
    `study ${s.name} (${s.id}): ${state}; ${s.executor} executor; created ${s.createdAt.slice(0, 19).replace('T', ' ')} UTC`,
    `cells: ${countsText(s)}; ${s.axes.length ? `axes ${s.axes.join(', ')}; ` : ''}${s.trials} trial${s.trials === 1 ? '' : 's'}; seed ${s.recipe.seed}`,
    '',
    table(
      ['cell', 'settings', 'trial', 'state', 'run', 'error'],
      d.cells.map((c) => [String(c.index), c.label || '–', String(c.trial), c.state, c.runId ?? '', (c.error ?? '').slice(0, 60)]),
      2,
    ),
  ];
  if (d.table.length) {
    const groups = [...new Map(d.table.map((r) => [r.group, settingsLabel(r.settings) || 'all'])).entries()];
    const byMetric = new Map<string, Map<number, AggregateRow>>();
    for (const r of d.table) {
      const k = `${r.metric}\u0000${r.split}`;
      if (!byMetric.has(k)) byMetric.set(k, new Map());
      byMetric.get(k)!.set(r.group, r);
    }
    lines.push('', 'mean ± std over trials (n):');
    lines.push(
      table(
        ['metric', 'split', ...groups.map(([, label]) => label)],
        [...byMetric.entries()].map(([k, m]) => [...k.split('\u0000'), ...groups.map(([g]) => (m.get(g) ? meanText(m.get(g)!) : ''))]),
        2,
      ),
    );
  }
  return lines.join('\n');
}

/** The unfinished cells' errors in full (the cell table shortens them): a Slurm task's names its exit code and log. */
const failuresText = (d: StudyDocument): string =>
  terminalText(
    d.cells
      .filter((c) => c.error && c.state !== 'finished')
      .map((c) => `cell ${c.index}${c.label ? ` (${c.label})` : ''} ${c.state}: ${c.error}\n`)
      .join(''),
  );

function executorFor(kind: ExecutorKind, runner: () => JobRunner, jobs: number, slurm: SlurmExecutorOptions = {}): StudyExecutor {
  return kind === 'slurm' ? new SlurmExecutor(slurm) : new LocalExecutor(runner(), jobs);
}

function parseExecutor(v: string | undefined): ExecutorKind {
  if (v === undefined) return 'local';
  if (!(EXECUTOR_KINDS as readonly string[]).includes(v)) throw new InputError(`--executor must be one of ${EXECUTOR_KINDS.join(', ')}, got '${v.slice(0, 40)}'`);
  return v as ExecutorKind;
}

async function runSub(argv: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      preset: { type: 'string' },
      config: { type: 'string' },
      quick: { type: 'boolean' },
      executor: { type: 'string' },
      jobs: { type: 'string' },
      backend: { type: 'string' },
      data: { type: 'string' },
      json: { type: 'boolean' },
      ...SLURM_CLI_OPTIONS,
      ...DB,
      ...HELP,
    },
    true,
  );
  if (values['help']) {
    process.stdout.write(`${STUDY_HELP}\n`);
    return 0;
  }
  const preset = values['preset'] as string | undefined;
  const config = values['config'] as string | undefined;
  if ([preset, config, positionals[0]].filter((x) => x !== undefined).length !== 1 || positionals.length > 1) {
    throw new InputError('give exactly one of --preset NAME, --config FILE and a stored study ID to resume');
  }
  if (positionals.length && values['quick']) throw new InputError('--quick applies to a new study; a stored study resumes as it was planned');
  const kindFlag = values['executor'] === undefined ? undefined : parseExecutor(values['executor'] as string);
  if (hasSlurmOptions(values) && kindFlag !== 'slurm') throw new InputError('the Slurm options (--partition, --time, --slurm-dir, …) need --executor slurm');
  const slurm = kindFlag === 'slurm' ? slurmOptionsFrom(values) : undefined;
  const jobsFlag = values['jobs'] as string | undefined;
  const backend = values['backend'] as string | undefined;
  const dataDir = values['data'] as string | undefined;
  const json = Boolean(values['json']);
  const newStudy: ResolvedStudy | null = preset ? loadStudyPreset(preset, { quick: Boolean(values['quick']) }) : config ? loadStudyFile(config, { quick: Boolean(values['quick']) }) : null;
  await checkBackend(backend);
  return withStore(values['db'] as string | undefined, async (store) => {
    const stored = newStudy ? null : await findStudy(store.db, positionals[0]!);
    // A stored study resumes with the executor it ran with unless --executor says otherwise.
    const kind = kindFlag ?? (stored ? parseExecutor(stored.executor) : 'local');
    const study = newStudy ?? stored!.recipe;
    const plan = await planStudy(study, { parallel: jobsFlag !== undefined ? parseWorkerCount(jobsFlag, '--jobs') : undefined, backend });
    const jobs = plan.estimate.parallel;
    // Before anything is stored: every dataset the cells read is there.
    for (const c of plan.cells) if (!isCounterexample(c.recipe)) checkDatasetFiles(c.recipe.dataset, { dataDir });
    const record = stored ?? (await storeStudy(store, plan, kind));
    process.stderr.write(`${planText(plan, kind)}\n`);
    process.stderr.write(`study ${record.id} (history: ${store.location.dbPath})${stored ? ': resuming' : ''}\n`);
    let runner: JobRunner | null = null;
    const executor = executorFor(kind, () => (runner = new JobRunner({ store, maxConcurrent: jobs, env: sharedJobEnv(jobs) })), jobs, slurm);
    const tty = Boolean(process.stderr.isTTY);
    let last = '';
    const onProgress = (p: StudyProgress): void => {
      const line = progressLine(p);
      if (tty) process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns ?? 120) - 1)}`);
      else if (line.replace(/ETA.*$/, '') !== last.replace(/ETA.*$/, '')) process.stderr.write(`${line}\n`);
      last = line;
    };
    let outcome;
    try {
      outcome = await runStudy(store, record.id, { executor, signal, backend, dataDir, cellSeconds: plan.estimate.cellSeconds, onProgress });
    } finally {
      if (tty && last) process.stderr.write('\n');
      await (runner as JobRunner | null)?.shutdown();
    }
    const doc = await studyDocument(store, record.id);
    process.stdout.write(json ? `${JSON.stringify(doc)}\n` : `${terminalText(studyText(doc), { newlines: true })}\n`);
    if (outcome.status === 'cancelled') throw new CancelledError(`study ${record.id} cancelled: ${countsText(doc.study)} (modelab study run ${record.id} finishes it)`);
    if (outcome.status === 'failed') {
      process.stderr.write(failuresText(doc));
      process.stderr.write(`modelab: study ${record.id}: ${countsText(doc.study)} (modelab study run ${record.id} retries the failed cells)\n`);
      return 1;
    }
    return 0;
  });
}

async function listSub(argv: string[]): Promise<number> {
  const { values } = parse(argv, { json: { type: 'boolean' }, ...DB, ...HELP });
  if (values['help']) return help();
  return withStore(values['db'] as string | undefined, async (store) => {
    const all = await listStudySummaries(store, () => listStudies(store.db));
    if (values['json']) process.stdout.write(`${JSON.stringify(all)}\n`);
    else if (!all.length) process.stdout.write('no studies yet (modelab study run --preset smoke-study)\n');
    else
      process.stdout.write(
        `${terminalText(
          table(
            ['id', 'name', 'status', 'cells', 'executor', 'created'],
            all.map((s) => [s.id, s.name, studyState(s), countsText(s), s.executor, s.createdAt.slice(0, 16).replace('T', ' ')]),
            3,
          ),
          { newlines: true },
        )}\n`,
      );
    return 0;
  });
}

async function showSub(argv: string[], usage = 'show ID [--json]'): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' }, ...DB, ...HELP }, true);
  if (values['help']) return help();
  const ref = oneRef(positionals, usage);
  return withStore(values['db'] as string | undefined, async (store) => {
    const doc = await studyDocument(store, ref);
    process.stdout.write(values['json'] ? `${JSON.stringify(doc)}\n` : `${terminalText(studyText(doc), { newlines: true })}\n`);
    return 0;
  });
}

async function cancelSub(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...DB, ...HELP }, true);
  if (values['help']) return help();
  const ref = oneRef(positionals, 'cancel ID');
  return withStore(values['db'] as string | undefined, async (store) => {
    const r = await cancelStudy(store, ref);
    process.stdout.write(`study ${r.id}: cancel requested; ${r.stopping} running cell${r.stopping === 1 ? '' : 's'} asked to stop (within a few seconds)\n`);
    return 0;
  });
}

async function collectSub(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' }, ...DB, ...HELP }, true);
  if (values['help']) return help();
  const ref = oneRef(positionals, 'collect ID [--json]');
  await withStore(values['db'] as string | undefined, async (store) => {
    const s = await findStudy(store.db, ref);
    // The local executor stores each cell's run as it runs: nothing waits to be collected.
    const executor = executorFor(parseExecutor(s.executor), () => new JobRunner({ store }), 1);
    if (executor.collect) {
      const r = await executor.collect({ store, study: s });
      process.stderr.write(`study ${s.id}: ${r.imported} run${r.imported === 1 ? '' : 's'} collected\n${failuresText(await studyDocument(store, s.id))}`);
    } else process.stderr.write(`study ${s.id}: the ${s.executor} executor keeps every cell's run in the history as it runs; nothing to collect\n`);
  });
  return showSub(argv, 'collect ID [--json]');
}

async function exportSub(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { csv: { type: 'string' }, json: { type: 'boolean' }, ...DB, ...HELP }, true);
  if (values['help']) return help();
  const ref = oneRef(positionals, 'export ID [--csv FILE | --json]');
  if (values['json'] && values['csv'] !== undefined) throw new InputError('give --csv FILE or --json, not both');
  return withStore(values['db'] as string | undefined, async (store) => {
    if (values['json']) {
      process.stdout.write(`${JSON.stringify(await studyDocument(store, ref))}\n`);
      return 0;
    }
    const study = await findStudy(store.db, ref);
    const { outcomes } = await cellOutcomes(store, study);
    const text = studyCsv(study.name, study.recipe.axes.map((a) => a.field), outcomes);
    const out = values['csv'] as string | undefined;
    if (out === undefined || out === '-') process.stdout.write(text);
    else {
      try {
        writeFileSync(out, text);
      } catch (e) {
        throw storageError(e, out);
      }
      process.stderr.write(`wrote ${terminalText(out)}: ${text.split('\n').length - 2} values of ${outcomes.filter((o) => o.doc).length} finished cells\n`);
    }
    return 0;
  });
}

async function deleteSub(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { 'with-runs': { type: 'boolean' }, 'keep-runs': { type: 'boolean' }, ...DB, ...HELP }, true);
  if (values['help']) return help();
  const ref = oneRef(positionals, 'delete ID (--with-runs | --keep-runs)');
  if (Boolean(values['with-runs']) === Boolean(values['keep-runs'])) {
    throw new InputError('say what happens to the study\'s runs: --with-runs deletes them too, --keep-runs keeps them in the history');
  }
  return withStore(values['db'] as string | undefined, async (store) => {
    const r = await deleteStudy(store, ref, Boolean(values['with-runs']));
    process.stdout.write(`deleted study ${r.id}${values['with-runs'] ? ` and its ${r.runsDeleted} run${r.runsDeleted === 1 ? '' : 's'}` : '; its runs stay in the history'}\n`);
    return 0;
  });
}

function help(): number {
  process.stdout.write(`${STUDY_HELP}\n`);
  return 0;
}

export async function studyCommand(argv: string[], signal: AbortSignal): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'run':
      return runSub(rest, signal);
    case 'presets':
      for (const p of listStudyPresets()) process.stdout.write(`${p.name}\n    ${p.description}\n`);
      return 0;
    case 'list':
      return listSub(rest);
    case 'show':
      return showSub(rest);
    case 'cancel':
      return cancelSub(rest);
    case 'collect':
      return collectSub(rest);
    case 'export':
      return exportSub(rest);
    case 'delete':
      return deleteSub(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      return help();
    default:
      throw new InputError(`unknown study command '${sub.slice(0, 40)}' (run, presets, list, show, cancel, collect, export, delete)`);
  }
}
