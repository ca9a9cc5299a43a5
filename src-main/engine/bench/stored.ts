/** The bench results kept on this machine (`modelab bench` writes one JSON file per run into a folder): read back for
 *  comparisons and for time estimates (recipe/estimate.ts). */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../io/atomic';
import { BENCH_SCHEMA, type BenchResult } from './record';

/** Where results are kept under ModeLab's home folder (MODELAB_HOME or the user data folder). */
export function benchDirIn(home: string): string {
  return path.join(home, 'bench');
}

/** Every readable result in `dir`, newest first (files that are not bench results are skipped). */
export function readBenchResults(dir: string): BenchResult[] {
  if (!existsSync(dir)) return [];
  const out: BenchResult[] = [];
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.json')).sort().reverse()) {
    try {
      const r = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as BenchResult;
      if (r?.schema === BENCH_SCHEMA && r.training?.mlp && r.lineEval) out.push(r);
    } catch {
      // unreadable: not ours to judge here
    }
  }
  return out;
}

/** The newest result on `backend` (any backend when not given or 'auto'), or null. */
export function latestBench(dir: string, backend?: string): BenchResult | null {
  const any = backend === undefined || backend === 'auto';
  return readBenchResults(dir).find((r) => any || r.backend === backend) ?? null;
}

/** Keeps a result in `dir` (named by its start time and backend); returns the file. */
export function keepBenchResult(dir: string, r: BenchResult): string {
  const file = path.join(dir, `${r.startedAt.replace(/[:.]/g, '-')}-${r.backend}.json`);
  writeFileAtomic(file, `${JSON.stringify(r, null, 2)}\n`);
  return file;
}
