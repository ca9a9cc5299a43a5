/**
 * The history commands: list, show, tag, note, rename, colour, delete, export, import, cancel. Each opens the history
 * (--db FILE, else MODELAB_HOME, else the user's data directory), which also marks runs whose job died as crashed.
 */
import { existsSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createApi, openHistory } from '../api/handlers';
import type { ExportFormat, ListQuery, ModeLabApi, RunDetail, RunStatus, RunSummary, SortKey } from '../api/contract';
import { RUN_STATUSES } from '../api/contract';
import { exportLayoutOption } from '../engine/experiment/export';
import { InputError } from '../engine/util/errors';
import { storedDocument } from '../store/bundle';
import { FINAL_STATUSES } from '../store/types';
import { storageError } from '../store/errors';
import { intOption, parse, type Options } from './args';
import { checkOutPath } from './out-path';
import { formatDuration } from './progress';
import { runSummary } from './summary';
import { num, pct, table } from './table';
import { terminalText } from './terminal-text';
import { CHECK_STATE_LABEL, checkStateOf } from '../engine/experiment/check-state';

const DB_OPTION: Options = { db: { type: 'string' } };
const DB_HELP = '  --db FILE          the history database (default: $MODELAB_HOME/history.sqlite, else the user data folder)';

export const HISTORY_HELP: Record<string, string> = {
  list: `Usage: modelab list [options]

Lists the runs in the history, newest first.

Options:
  --status S[,S…]    queued | running | finished | failed | cancelled | crashed
  --tag TAG          runs carrying TAG (repeat for several: all must match)
  --preset NAME      runs of this preset
  --search TEXT      TEXT in the id, name, notes or a tag
  --sort KEY         created | started | finished | name | status (default created)
  --asc              oldest (or A…Z) first
  --limit N          page size (default 50)
  --page N           page number, from 1 (or --offset N)
  --json             print {runs, total, limit, offset} as JSON
${DB_HELP}`,
  show: `Usage: modelab show ID [--json]

A run's summary: status, environment, endpoints, stability, every path with its check and barriers.
ID may be any unique prefix of the id (4 characters or more).

Options:
  --json             print everything the history holds about the run as JSON
${DB_HELP}`,
  tag: `Usage: modelab tag ID TAG… [--remove]

Adds tags to a run (or removes them with --remove).
${DB_HELP}`,
  note: `Usage: modelab note ID TEXT [--append]

Sets a run's notes (or appends a line with --append).
${DB_HELP}`,
  rename: `Usage: modelab rename ID NAME
${DB_HELP}`,
  colour: `Usage: modelab colour ID (#rrggbb | NAME | none)

Sets the colour a run is drawn in.
${DB_HELP}`,
  delete: `Usage: modelab delete ID… [--yes]

Deletes runs: their rows and every artifact file no other run uses. Asks first unless --yes.
${DB_HELP}`,
  export: `Usage: modelab export ID… --format json|csv|bundle --out PATH [--force] [--layout torch]

  json     one document: {format, exportedAt, runs: [{history, run}]}
  csv      tidy long format, one row per path point and split: run,path,t,split,loss,acc
  bundle   a folder (or PATH.zip) with run.json, history.json, endpoints.safetensors, eval-data.safetensors,
           paths/<name>.safetensors + .json and the latest checkpoint of each endpoint,
           checkpoints/<endpoint>-epoch<e>.safetensors; several runs: one subfolder per run. 'modelab import' reads
           it back.
--out - writes json or csv to stdout. --force overwrites an existing bundle destination. --layout torch (bundle)
also writes every endpoint and path vertex as a PyTorch state_dict, torch/<endpoint>.safetensors and
torch/<path>/v<k>.safetensors, for model.load_state_dict(load_file(…)) (docs/bring-your-own-model.md).
${DB_HELP}`,
  import: `Usage: modelab import BUNDLE… [--skip-existing | --as-copy]

Imports run bundles (folders or .zip files, as 'modelab export --format bundle' writes them). Each run keeps its id.
Every file is checked first (links and special files, sizes, manifest.sha256 checksums, history.json, run.json,
tensors); a bundle that fails a check imports nothing. Prints the ids.

Options:
  --skip-existing    leave out runs the history already has (else such a bundle is refused)
  --as-copy          import runs the history already has as copies: a new id, the name marked " (copy)"
${DB_HELP}`,
  cancel: `Usage: modelab cancel ID

Asks a queued or running run's job to stop (it is marked cancelled within a training step).
${DB_HELP}`,
};

function help(cmd: string): number {
  process.stdout.write(`${HISTORY_HELP[cmd]}\n`);
  return 0;
}

async function withApi<T>(db: string | undefined, f: (api: ModeLabApi) => Promise<T>): Promise<T> {
  const store = await openHistory({ db }, { onWarning: (m) => process.stderr.write(`modelab: warning: ${terminalText(m)}\n`) });
  const api = createApi({ store });
  try {
    return await f(api);
  } finally {
    await api.close();
  }
}

const localTime = (isoTime: string | null): string => {
  if (!isoTime) return '';
  const d = new Date(isoTime);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
};

const duration = (r: RunSummary): string =>
  r.startedAt && r.finishedAt ? formatDuration((Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000) : r.status === 'running' ? 'running' : '';

export async function listCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    ...DB_OPTION,
    status: { type: 'string', multiple: true },
    tag: { type: 'string', multiple: true },
    preset: { type: 'string' },
    search: { type: 'string' },
    sort: { type: 'string' },
    asc: { type: 'boolean' },
    limit: { type: 'string' },
    page: { type: 'string' },
    offset: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values['help']) return help('list');
  const v = values as Record<string, unknown>;
  const status = ((v['status'] as string[] | undefined) ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  for (const s of status) if (!RUN_STATUSES.includes(s as RunStatus)) throw new InputError(`unknown status '${s}' (${RUN_STATUSES.join(', ')})`);
  const sort = v['sort'] as string | undefined;
  if (sort !== undefined && !['created', 'started', 'finished', 'name', 'status'].includes(sort)) {
    throw new InputError(`unknown sort key '${sort}' (created, started, finished, name, status)`);
  }
  const limit = intOption(values['limit'], 'limit') ?? 50;
  if (limit < 1) throw new InputError('--limit needs at least 1');
  const page = intOption(values['page'], 'page');
  if (page !== undefined && page < 1) throw new InputError('--page counts from 1');
  const offset = page !== undefined ? (page - 1) * limit : (intOption(values['offset'], 'offset') ?? 0);
  const q: ListQuery = {
    status: status as RunStatus[],
    tags: (v['tag'] as string[] | undefined) ?? [],
    preset: v['preset'] as string | undefined,
    search: v['search'] as string | undefined,
    sort: (sort as SortKey | undefined) ?? 'created',
    order: values['asc'] ? 'asc' : 'desc',
    limit,
    offset,
  };
  return withApi(values['db'] as string | undefined, async (api) => {
    const r = await api.listRuns(q);
    if (values['json']) {
      process.stdout.write(`${JSON.stringify(r)}\n`);
      return 0;
    }
    if (!r.runs.length) {
      process.stdout.write(r.total ? `no runs on this page (${r.total} match)\n` : 'no runs in the history yet: modelab run --preset smoke\n');
      return 0;
    }
    process.stdout.write(
      `${table(
        ['id', 'status', 'name', 'preset', 'created', 'time', 'tags'],
        r.runs.map((s) => [s.id, s.status, s.name, s.preset ?? '', localTime(s.createdAt), duration(s), s.tags.join(', ')].map((c) => terminalText(c))),
      )}\n`,
    );
    const last = r.offset + r.runs.length;
    if (r.total > r.runs.length) {
      process.stdout.write(`\n${r.offset + 1}–${last} of ${r.total}${last < r.total ? ` (next: --page ${Math.floor(last / r.limit) + 1}${r.limit !== 50 ? ` --limit ${r.limit}` : ''})` : ''}\n`);
    }
    return 0;
  });
}

function partialSummary(d: RunDetail): string {
  const out: string[] = [];
  if (d.endpoints.length) {
    out.push(
      table(
        ['endpoint', 'seed', 'train loss', 'train acc', 'test loss', 'test acc'],
        d.endpoints.map((e) => [e.name, String(e.seed), num(e.train.loss), pct(e.train.acc), num(e.test.loss), pct(e.test.acc)]),
      ),
    );
  }
  const done = new Set(d.endpoints.map((e) => e.name));
  for (const [name, c] of Object.entries(d.curves)) {
    if (done.has(name) || !c.length) continue;
    const last = c[c.length - 1]!;
    out.push(`endpoint ${name}: training stopped at step ${last.step} (epoch ${last.epoch.toFixed(2)}), loss ${num(last.loss)}, acc ${pct(last.acc)}; ${c.length} curve points kept`);
  }
  for (const p of d.paths) {
    const b = p.barrier;
    out.push(
      `path ${p.name} (${p.kind}, ${p.from} → ${p.to}): ${p.segments.length} segments, ${p.points.length} points, check ${p.check ? CHECK_STATE_LABEL[checkStateOf(p.check)] : 'FAIL'}; ` +
        `barrier (loss − interp.) train ${num(b.train.lossOverInterpolation.value)}, test ${num(b.test.lossOverInterpolation.value)}`,
    );
  }
  if (!out.length) out.push('nothing was computed yet');
  return out.join('\n');
}

export function showText(d: RunDetail): string {
  const head: string[] = [];
  head.push(`run ${d.id}  ${d.name}  [${d.status}]${d.colour ? `  colour ${d.colour}` : ''}`);
  head.push(`created ${localTime(d.createdAt)}${d.startedAt ? `, started ${localTime(d.startedAt)}` : ''}${d.finishedAt ? `, ended ${localTime(d.finishedAt)}` : ''}${d.preset ? `; preset ${d.preset}` : ''}`);
  if (d.tags.length) head.push(`tags: ${d.tags.join(', ')}`);
  if (d.notes) head.push(`notes: ${d.notes.replace(/\n/g, '\n       ')}`);
  if (d.error) head.push(`error: ${d.error}`);
  if (d.environment?.dataset) head.push(`dataset ${d.environment.dataset.name} (sha256 ${d.environment.dataset.checksum.slice(0, 16)}…), seeds ${JSON.stringify(d.environment.seeds.endpoints)}`);
  const artifacts = d.artifacts.reduce((a, r) => a + r.size, 0);
  head.push(`artifacts: ${d.artifacts.length} files, ${(artifacts / 1024 / 1024).toFixed(2)} MiB`);
  if (d.checkpoints.length) {
    head.push(`checkpoints (latest of each endpoint): ${d.checkpoints.map((c) => `${c.endpoint} epoch ${+c.epoch.toFixed(4)} (step ${c.step})`).join(', ')}`);
  }
  const body = d.status === 'finished' ? runSummary(storedDocument(d)) : partialSummary(d);
  return `${head.join('\n')}\n\n${body}`;
}

export async function showCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...DB_OPTION, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, true);
  if (values['help']) return help('show');
  if (positionals.length !== 1) throw new InputError('usage: modelab show ID');
  return withApi(values['db'] as string | undefined, async (api) => {
    const d = await api.getRun(positionals[0]!);
    process.stdout.write(values['json'] ? `${JSON.stringify(d)}\n` : `${terminalText(showText(d), { newlines: true })}\n`);
    return 0;
  });
}

export async function tagCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...DB_OPTION, remove: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, true);
  if (values['help']) return help('tag');
  const [id, ...tags] = positionals;
  if (!id || !tags.length) throw new InputError('usage: modelab tag ID TAG… [--remove]');
  for (const t of tags) if (!t.trim() || /[\n\r]/.test(t)) throw new InputError(`'${t}' is not a usable tag`);
  return withApi(values['db'] as string | undefined, async (api) => {
    const s = await api.tagRun(id, values['remove'] ? { remove: tags } : { add: tags });
    process.stdout.write(`${s.id}: tags ${s.tags.length ? terminalText(s.tags.join(', ')) : '(none)'}\n`);
    return 0;
  });
}

export async function noteCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...DB_OPTION, append: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, true);
  if (values['help']) return help('note');
  const [id, ...words] = positionals;
  if (!id || !words.length) throw new InputError('usage: modelab note ID TEXT [--append]');
  const text = words.join(' ');
  return withApi(values['db'] as string | undefined, async (api) => {
    const notes = values['append'] ? [(await api.getRun(id)).notes, text].filter(Boolean).join('\n') : text;
    const s = await api.setNotes(id, notes);
    process.stdout.write(`${s.id}: notes saved\n`);
    return 0;
  });
}

export async function renameCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...DB_OPTION, help: { type: 'boolean', short: 'h' } }, true);
  if (values['help']) return help('rename');
  const [id, ...words] = positionals;
  if (!id || !words.length) throw new InputError('usage: modelab rename ID NAME');
  return withApi(values['db'] as string | undefined, async (api) => {
    const s = await api.renameRun(id, words.join(' '));
    process.stdout.write(`${s.id}: renamed to "${terminalText(s.name)}"\n`);
    return 0;
  });
}

export async function colourCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...DB_OPTION, help: { type: 'boolean', short: 'h' } }, true);
  if (values['help']) return help('colour');
  if (positionals.length !== 2) throw new InputError('usage: modelab colour ID (#rrggbb | NAME | none)');
  const [id, c] = positionals as [string, string];
  return withApi(values['db'] as string | undefined, async (api) => {
    const s = await api.setColour(id, c === 'none' ? null : c);
    process.stdout.write(`${s.id}: colour ${terminalText(s.colour ?? '(none)')}\n`);
    return 0;
  });
}

function ask(question: string): Promise<boolean> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: Boolean(process.stdin.isTTY) });
    let answered = false;
    rl.question(question, (a) => {
      answered = true;
      rl.close();
      resolve(/^y(es)?$/i.test(a.trim()));
    });
    rl.on('close', () => {
      if (!answered) resolve(false);
    });
  });
}

export async function deleteCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...DB_OPTION, yes: { type: 'boolean', short: 'y' }, help: { type: 'boolean', short: 'h' } }, true);
  if (values['help']) return help('delete');
  if (!positionals.length) throw new InputError('usage: modelab delete ID… [--yes]');
  return withApi(values['db'] as string | undefined, async (api) => {
    const runs: RunSummary[] = [];
    for (const p of positionals) runs.push(await api.getRun(p));
    if (!values['yes']) {
      process.stderr.write(`${runs.map((r) => `  ${r.id}  ${r.status.padEnd(9)}  ${terminalText(r.name)}`).join('\n')}\n`);
      const ok = await ask(`Delete ${runs.length} run${runs.length === 1 ? '' : 's'} and their artifacts? [y/N] `);
      if (!ok) {
        process.stderr.write('nothing deleted\n');
        return 1;
      }
    }
    const r = await api.deleteRuns(runs.map((s) => s.id));
    process.stdout.write(`deleted ${r.runs} run${r.runs === 1 ? '' : 's'} (${r.artifactsRemoved} artifact file${r.artifactsRemoved === 1 ? '' : 's'} removed)\n`);
    return 0;
  });
}

export async function exportCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { ...DB_OPTION, format: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' }, layout: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    true,
  );
  if (values['help']) return help('export');
  const format = values['format'] as string | undefined;
  const out = values['out'] as string | undefined;
  if (!positionals.length) throw new InputError('usage: modelab export ID… --format json|csv|bundle --out PATH');
  if (!format || !['json', 'csv', 'bundle'].includes(format)) throw new InputError(`--format needs json, csv or bundle${format ? `, got '${format}'` : ''}`);
  if (!out) throw new InputError('--out PATH is required (- for stdout with json or csv)');
  const layout = exportLayoutOption(values['layout'] as string | undefined);
  if (layout !== 'modelab' && format !== 'bundle') throw new InputError('--layout applies to --format bundle');
  if (out !== '-') checkOutPath(out, format === 'bundle' && !out.toLowerCase().endsWith('.zip') ? 'folder' : 'file');
  const made = out !== '-' && !existsSync(out);
  return withApi(values['db'] as string | undefined, async (api) => {
    const r = await api.exportRuns({ ids: positionals, format: format as ExportFormat, out, overwrite: Boolean(values['force']), layout }).catch((e: unknown) => {
      // The disk filling or failing while writing (the destination was checked above): no half-written export left.
      if (made) rmSync(out, { recursive: true, force: true });
      throw storageError(e, out);
    });
    if (out !== '-') process.stderr.write(`exported ${r.ids.length} run${r.ids.length === 1 ? '' : 's'} to ${terminalText(out)}\n`);
    return 0;
  });
}

export async function importCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { ...DB_OPTION, 'skip-existing': { type: 'boolean' }, 'as-copy': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    true,
  );
  if (values['help']) return help('import');
  if (!positionals.length) throw new InputError('usage: modelab import BUNDLE… [--skip-existing | --as-copy]');
  if (values['skip-existing'] && values['as-copy']) throw new InputError('give --skip-existing or --as-copy, not both');
  const existing = values['skip-existing'] ? 'skip' : values['as-copy'] ? 'copy' : 'refuse';
  return withApi(values['db'] as string | undefined, async (api) => {
    for (const b of positionals) {
      const r = await api.importBundle(b, { existing });
      for (const w of r.warnings) process.stderr.write(`modelab: warning: ${w}\n`);
      for (const id of r.ids) process.stdout.write(`${id}\n`);
      const skipped = r.skipped.length ? `; skipped ${r.skipped.length} already in the history (${r.skipped.join(', ')})` : '';
      process.stderr.write(`imported ${r.ids.length} run${r.ids.length === 1 ? '' : 's'} from ${b}${skipped}\n`);
    }
    return 0;
  });
}

export async function cancelCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...DB_OPTION, help: { type: 'boolean', short: 'h' } }, true);
  if (values['help']) return help('cancel');
  if (positionals.length !== 1) throw new InputError('usage: modelab cancel ID');
  return withApi(values['db'] as string | undefined, async (api) => {
    const s = await api.getRun(positionals[0]!);
    if (FINAL_STATUSES.includes(s.status)) {
      process.stdout.write(`${s.id} is already ${s.status}\n`);
      return 0;
    }
    const r = await api.cancelRun(s.id);
    process.stdout.write(`${s.id}: ${r.outcome === 'requested' ? 'cancel requested (its job stops within a few seconds)' : r.outcome}\n`);
    return 0;
  });
}
