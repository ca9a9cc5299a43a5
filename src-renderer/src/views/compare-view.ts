/**
 * What the compare view derives from the runs it compares: the recipe fields that differ, the endpoints' metrics
 * side by side, and every run's training curves overlaid (built by charts/training.ts, recoloured by run).
 */
import type { RunDetail } from '../api/types';
import { buildTrainingOption, type TrainingSettings } from '../charts/training';
import { runShades } from '../charts/palette';
import { shortId } from '../util/format';

type Option = Record<string, unknown>;

/** What to do when there is nothing to compare (the top bar's Compare without runs, a comparison emptied). */
export const COMPARE_HINT = 'To compare runs, tick them in the history (one or more), then press Compare.';

/** A recipe as `field.path → value` (objects flattened; arrays and primitives are leaves). */
export function flattenRecipe(value: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (!entries.length && prefix) out.set(prefix, {});
    for (const [k, v] of entries) flattenRecipe(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out.set(prefix, value);
  }
  return out;
}

/** A recipe value as the diff table writes it; a field a recipe does not have is "—". */
export function recipeValueText(v: unknown): string {
  if (v === undefined) return '—';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The fields whose values differ between the recipes (in the order they first appear), with each recipe's value. */
export function recipeDiff(configs: unknown[]): { field: string; values: string[] }[] {
  const flat = configs.map((c) => flattenRecipe(c));
  const fields = [...new Set(flat.flatMap((f) => [...f.keys()]))];
  const rows: { field: string; values: string[] }[] = [];
  for (const field of fields) {
    const values = flat.map((f) => recipeValueText(f.get(field)));
    if (new Set(values).size > 1) rows.push({ field, values });
  }
  return rows;
}

/** How each run is named in the compared charts: its name, with its short id when another compared run has the same name. */
export function runLabels(runs: { id: string; name: string }[]): Map<string, string> {
  const count = new Map<string, number>();
  for (const r of runs) count.set(r.name, (count.get(r.name) ?? 0) + 1);
  return new Map(runs.map((r) => [r.id, count.get(r.name)! > 1 ? `${r.name} (${shortId(r.id)})` : r.name]));
}

export interface EndpointMetricRow {
  runId: string;
  run: string;
  endpoint: string;
  trainLoss: number;
  trainAcc: number;
  testLoss: number;
  testAcc: number;
  steps: number;
}

/** Every endpoint of every run: its train and test loss and accuracy, one row each. */
export function endpointMetricRows(runs: Pick<RunDetail, 'id' | 'name' | 'endpoints'>[]): EndpointMetricRow[] {
  const labels = runLabels(runs);
  return runs.flatMap((r) =>
    r.endpoints.map((e) => ({
      runId: r.id,
      run: labels.get(r.id)!,
      endpoint: e.name,
      trainLoss: e.train.loss,
      trainAcc: e.train.acc,
      testLoss: e.test.loss,
      testAcc: e.test.acc,
      steps: e.training.steps,
    })),
  );
}

/**
 * The training curves of every run's endpoints on one chart: charts/training.ts builds it from the curves keyed
 * `run · endpoint`; each run's series then take shades of the run's colour (one shade per endpoint).
 */
export function compareTrainingOption(runs: Pick<RunDetail, 'id' | 'name' | 'curves'>[], colours: Map<string, string>, s: TrainingSettings): Option {
  const labels = runLabels(runs);
  const curves: Record<string, RunDetail['curves'][string]> = {};
  const colourOf = new Map<string, string>();
  for (const r of runs) {
    const endpoints = Object.keys(r.curves);
    const shades = runShades(colours.get(r.id) ?? '#888888', endpoints.length, s.dark);
    endpoints.forEach((e, i) => {
      const key = `${labels.get(r.id)!} · ${e}`;
      curves[key] = r.curves[e]!;
      colourOf.set(key, shades[i]!);
    });
  }
  const option = buildTrainingOption(curves, s);
  // Series ids are `<key>|…`: the longest key the id starts with names the series' run and endpoint.
  const keys = [...colourOf.keys()].sort((a, b) => b.length - a.length);
  option['series'] = (option['series'] as Option[]).map((series) => {
    const key = keys.find((k) => String(series['id']).startsWith(`${k}|`));
    const colour = key ? colourOf.get(key)! : undefined;
    return colour ? { ...series, color: colour, lineStyle: { ...((series['lineStyle'] as Option | undefined) ?? {}), color: colour } } : series;
  });
  return option;
}
