/** What the history's modules work on: the database and the artifact folder (HistoryStore holds both). */
import type { ArtifactStore } from './artifacts';
import type { HistoryLocation } from './location';
import type { Database } from './sqlite';

export interface StoreParts {
  readonly db: Database;
  readonly artifacts: ArtifactStore;
  readonly location: HistoryLocation;
}

/** `?, ?, …`: the placeholders of an `IN (…)` list of these values. */
export function marks(values: readonly unknown[]): string {
  return values.map(() => '?').join(', ');
}

/** A finite number, else null (SQLite keeps no NaN; a metric that was not finite is stored as null). */
export const finiteOrNull = (v: number | undefined | null): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
