/** Finding runs whose job is gone (its process died without recording an end) and marking them crashed. */
import os from 'node:os';
import { setStatus } from './run-lifecycle';
import type { StoreParts } from './store-parts';
import type { RunStatus } from './types';

export interface CrashDetection {
  /** A running run's heartbeat must be older than this to count as lost (default 6 s: 3 × the 2 s interval). */
  staleMs?: number;
  now?: number;
  /** Whether a process is alive here (default: signal 0). */
  isAlive?: (pid: number) => boolean;
  /** This machine's name (default os.hostname()); pids on other hosts are not checked, only heartbeats. */
  host?: string;
  /** A heartbeat older than this marks the run crashed even when its pid is alive on another host (default 1 h). */
  foreignHostStaleMs?: number;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Marks `crashed` every running run whose job is gone: its heartbeat is older than `staleMs` and its process is
 * not alive (on this host), or its heartbeat is very old (another host). Queued runs whose owner is gone (no
 * heartbeat for `staleMs` since creation, no pid) are crashed too. Returns the ids marked.
 */
export async function detectCrashed(s: StoreParts, opts: CrashDetection = {}): Promise<string[]> {
  if (s.db.readonly) return [];
  const now = opts.now ?? Date.now();
  const staleMs = opts.staleMs ?? 6000;
  const isAlive = opts.isAlive ?? pidAlive;
  const host = opts.host ?? os.hostname();
  const rows = await s.db.all<{ id: string; status: RunStatus; heartbeat_at: number | null; pid: number | null; host: string | null; created_at: string }>(
    "SELECT id, status, heartbeat_at, pid, host, created_at FROM runs WHERE status IN ('running', 'queued')",
  );
  const out: string[] = [];
  for (const r of rows) {
    const beat = r.heartbeat_at ?? Date.parse(r.created_at);
    if (now - beat <= staleMs) continue;
    const local = r.host === null || r.host === host;
    if (r.pid !== null && local && isAlive(r.pid)) continue;
    if (!local && now - beat <= (opts.foreignHostStaleMs ?? 3_600_000)) continue;
    const why =
      r.status === 'queued'
        ? 'the process that queued this run stopped before starting it'
        : `the job process${r.pid !== null ? ` (pid ${r.pid})` : ''} stopped without finishing (last heartbeat ${new Date(beat).toISOString()})`;
    if (await setStatus(s, r.id, 'crashed', { error: why, from: [r.status] })) out.push(r.id);
  }
  return out;
}
