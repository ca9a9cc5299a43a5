/**
 * A study's numbers over its trials: for each combination of axis values (cell group) and each metric of its runs
 * (metrics.ts), the mean and the sample standard deviation (n − 1 in the denominator; null with fewer than two
 * values) over the trials that finished with a finite value, beside every individual value. And the same values as a
 * tidy CSV, one row per value: study,cell,<axis columns>,trial,run,metric,split,value.
 */
import type { RunResult } from '../experiment/result';
import { csvLine } from '../util/csv';
import type { CellSetting } from './expand';
import { type MetricValue, runMetrics } from './metrics';

/** A cell with what it produced: its finished run's document, or null (not finished). */
export interface CellOutcome {
  index: number;
  group: number;
  trial: number;
  settings: CellSetting[];
  runId: string | null;
  doc: Pick<RunResult, 'endpoints' | 'paths' | 'stability'> | null;
}

export interface AggregateRow extends Omit<MetricValue, 'value'> {
  group: number;
  settings: CellSetting[];
  /** Trials with a finite value. */
  n: number;
  mean: number | null;
  std: number | null;
  values: { cell: number; trial: number; run: string; value: number | null }[];
}

export function meanStd(xs: number[]): { mean: number | null; std: number | null } {
  if (!xs.length) return { mean: null, std: null };
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  if (xs.length < 2) return { mean, std: null };
  const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return { mean, std: Math.sqrt(v) };
}

/** One row per (cell group, metric, split), groups in order, metrics in the order the runs report them. */
export function aggregateStudy(cells: CellOutcome[]): AggregateRow[] {
  const rows = new Map<string, AggregateRow>();
  const sorted = [...cells].sort((a, b) => a.group - b.group || a.trial - b.trial);
  for (const c of sorted) {
    if (!c.doc || !c.runId) continue;
    for (const m of runMetrics(c.doc)) {
      const key = `${c.group}\u0000${m.metric}\u0000${m.split}`;
      let row = rows.get(key);
      if (!row) {
        const { value: _value, ...rest } = m;
        row = { ...rest, group: c.group, settings: c.settings, n: 0, mean: null, std: null, values: [] };
        rows.set(key, row);
      }
      row.values.push({ cell: c.index, trial: c.trial, run: c.runId, value: m.value });
    }
  }
  const out = [...rows.values()].sort((a, b) => a.group - b.group);
  for (const r of out) {
    const xs = r.values.map((v) => v.value).filter((v): v is number => v !== null);
    Object.assign(r, { n: xs.length, ...meanStd(xs) });
  }
  return out;
}

/** The tidy CSV's columns: the axis fields sit between cell and trial. */
export const studyCsvColumns = (axisFields: string[]): string[] => ['study', 'cell', ...axisFields, 'trial', 'run', 'metric', 'split', 'value'];

/** The tidy CSV of a study's individual values (cells without a finished run have no rows). */
export function studyCsv(study: string, axisFields: string[], cells: CellOutcome[]): string {
  let text = csvLine(studyCsvColumns(axisFields));
  for (const c of [...cells].sort((a, b) => a.index - b.index)) {
    if (!c.doc || !c.runId) continue;
    const axes = axisFields.map((f) => c.settings.find((s) => s.field === f)?.value);
    for (const m of runMetrics(c.doc)) text += csvLine([study, c.index, ...axes, c.trial, c.runId, m.metric, m.split, m.value]);
  }
  return text;
}
