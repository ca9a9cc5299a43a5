/**
 * `modelab run --dry-run`: validates the recipe and prints what it would take on this machine — memory against the
 * machine's, and time per stage from the stored bench figures — and starts nothing, stores nothing. Exit 0, or 2 (one
 * line) for a recipe that cannot fit. Without bench figures it says how to get them; on a terminal it offers to run
 * the quick bench, and runs it only when the user says yes.
 */
import { createInterface } from 'node:readline/promises';
import { benchDirIn } from '../engine/bench/stored';
import { NO_TIMING_FIGURES, type RecipeEstimate, formatBytes, roughDuration } from '../engine/recipe/estimate';
import { estimateHere } from '../engine/recipe/resources';
import type { AnyRecipe } from '../engine/recipe/schema';
import { InputError } from '../engine/util/errors';
import { modelabHome } from '../store/location';
import { benchAndKeep } from './bench-command';

/** The `--dry-run --json` document's schema id (docs/run-json.md, "Estimates"). */
export const ESTIMATE_SCHEMA = 'modelab.estimate/1';

/** How to get timing figures, as the CLI says it. */
export const BENCH_ADVICE = 'run `modelab bench --quick` (about 1½ minutes) to measure this machine';

const count = (n: number): string => n.toLocaleString('en-US');

/** Indented rows of a name, a right-aligned amount and a description. */
function rows(cells: [string, string, string][]): string {
  const w0 = Math.max(...cells.map((c) => c[0].length));
  const w1 = Math.max(...cells.map((c) => c[1].length));
  return cells.map(([a, b, c]) => `  ${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`).join('\n');
}

export function estimateText(e: RecipeEstimate): string {
  const lines = [`${e.recipe}: nothing started or stored (--dry-run)`, ''];
  const r = e.resources;
  if (r) {
    const b = r.memory.bytes;
    const side = r.memory.parallelTrainings > 1 ? ` (× ${r.memory.parallelTrainings} trainings side by side)` : '';
    lines.push(`memory: ${e.headline.memory}`);
    lines.push(
      rows([
        ['parameters', formatBytes(b.training), `${count(r.memory.parameters)} per network, with gradients and optimiser state${side}`],
        ['activations', formatBytes(b.activations), `one training batch${side}`],
        ['dataset', formatBytes(b.dataset), 'training and test sets as loaded'],
        ['evaluation', formatBytes(b.evaluation), `${count(r.evaluationSamples)} evaluation samples on the device, one evaluation batch, the endpoints`],
        ['paths', formatBytes(b.paths), `vertices and ${count(r.pathPoints)} points`],
        ['runtime', formatBytes(b.base), 'Node and TensorFlow.js'],
      ]),
    );
    const steps = Object.entries(r.trainingSteps).map(([k, v]) => `train ${k} ${count(v)} steps`);
    lines.push('', `work: ${steps.join(', ')}; ${count(r.pathPoints)} path points × ${count(r.evaluationSamples)} samples = ${count(r.pointSamples)}`);
  }
  const t = e.time;
  if (t) {
    const when = t.bench.startedAt.slice(0, 16).replace('T', ' ');
    lines.push('', `time: ${e.headline.time} (bench${t.bench.quick ? ' --quick' : ''} of ${when} UTC, ${t.bench.device})`);
    lines.push(rows(t.stages.map((s) => [s.label, roughDuration(s.seconds), s.basis])));
  }
  for (const n of e.notes) lines.push('', n.startsWith(NO_TIMING_FIGURES) ? `time: ${n} — ${BENCH_ADVICE}` : `note: ${n}`);
  return lines.join('\n');
}

async function consentToBench(): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${NO_TIMING_FIGURES} on this machine. Run the quick benchmark now (about 1½ minutes)? [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

export async function dryRun(recipe: AnyRecipe, o: { backend?: string; json: boolean }): Promise<number> {
  const dir = benchDirIn(modelabHome());
  let e = await estimateHere(recipe, dir, o.backend);
  if (e.resources?.refusal) throw new InputError(e.resources.refusal);
  // Asked only where someone can answer; never run without a yes.
  if (!e.time && e.notes.some((n) => n.startsWith(NO_TIMING_FIGURES)) && !o.json && process.stdin.isTTY && process.stderr.isTTY && (await consentToBench())) {
    await benchAndKeep({ quick: true, backend: o.backend });
    e = await estimateHere(recipe, dir, o.backend);
  }
  process.stdout.write(o.json ? `${JSON.stringify({ schema: ESTIMATE_SCHEMA, ...e })}\n` : `${estimateText(e)}\n`);
  return 0;
}
