/**
 * Exports over many runs for analysis elsewhere:
 * - JSON: { format: 'modelab.history-export/1', exportedAt, runs: [ { history: HistoryRecord, run: RunResult+runId } ] }
 * - CSV: tidy long format, one row per path point and split: run,path,t,split,loss,acc (empty cells for values that
 *   are not finite). Rows follow the order of the ids, then the recipe's path order, then t.
 */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { csvCell } from '../engine/util/csv';
import { storedDocument } from './bundle';
import type { HistoryStore } from './history';
import { historyRecord } from './run-document';

export const CSV_COLUMNS = ['run', 'path', 't', 'split', 'loss', 'acc'] as const;

function write(out: Writable, s: string): Promise<void> {
  if (out.errored) return Promise.reject(out.errored);
  return new Promise((resolve, reject) => {
    if (out.write(s)) resolve();
    else {
      out.once('drain', resolve);
      out.once('error', reject);
    }
  });
}

function end(out: Writable): Promise<void> {
  if (out === process.stdout) return Promise.resolve();
  if (out.errored) return Promise.reject(out.errored);
  return new Promise((resolve, reject) => {
    out.once('error', reject);
    out.end(() => resolve());
  });
}

/** `-` means stdout. A write error (a full disk) may come after write() returned: write and end report it then. */
export function openOutput(file: string): Writable {
  if (file === '-') return process.stdout;
  const out = createWriteStream(file);
  out.on('error', () => undefined);
  return out;
}

export async function writeCsv(store: HistoryStore, ids: string[], out: Writable): Promise<number> {
  const full: string[] = [];
  for (const i of ids) full.push(await store.resolveId(i));
  await write(out, `${CSV_COLUMNS.join(',')}\n`);
  let rows = 0;
  for (const id of full) {
    const pts = await store.db.all<{ path: string; t: number; train_loss: number | null; train_acc: number | null; test_loss: number | null; test_acc: number | null }>(
      `SELECT pp.path, pp.t, pp.train_loss, pp.train_acc, pp.test_loss, pp.test_acc
         FROM path_points pp JOIN paths p ON p.run_id = pp.run_id AND p.name = pp.path
        WHERE pp.run_id = ? ORDER BY p.idx, pp.idx`,
      [id],
    );
    let chunk = '';
    for (const p of pts) {
      chunk += `${[id, p.path, p.t, 'train', p.train_loss, p.train_acc].map(csvCell).join(',')}\n`;
      chunk += `${[id, p.path, p.t, 'test', p.test_loss, p.test_acc].map(csvCell).join(',')}\n`;
      rows += 2;
    }
    await write(out, chunk);
  }
  await end(out);
  return rows;
}

export async function writeJson(store: HistoryStore, ids: string[], out: Writable): Promise<void> {
  const full: string[] = [];
  for (const i of ids) full.push(await store.resolveId(i));
  await write(out, `{"format":"modelab.history-export/1","exportedAt":${JSON.stringify(new Date().toISOString())},"runs":[`);
  for (const [k, id] of full.entries()) {
    const d = await store.get(id);
    await write(out, `${k ? ',' : ''}\n${JSON.stringify({ history: historyRecord(d), run: storedDocument(d) })}`);
  }
  await write(out, '\n]}\n');
  await end(out);
}
