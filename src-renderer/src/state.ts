/**
 * App-wide state: the hash route, the colour scheme (follows the OS; the desktop menu can override it through
 * Electron's nativeTheme, which drives the same media query), live progress of running jobs, and notifications.
 */
import { computed, reactive, ref } from 'vue';
import { type ModeLabClient, getClient } from './api/client';
import { type ApiEvent, type ProgressEvent, type RunStatus, ACTIVE_STATUSES as ACTIVE } from './api/types';

// ------------------------------------------------------------------------------------------------------ route

export type RouteName = 'new' | 'run' | 'history' | 'compare' | 'studies' | 'study';
export interface Route {
  name: RouteName;
  id?: string;
  query: Record<string, string>;
}

export function parseHash(hash: string): Route {
  const h = hash.replace(/^#/, '') || '/history';
  const [p = '', qs = ''] = h.split('?');
  const query = Object.fromEntries(new URLSearchParams(qs));
  const parts = p.split('/').filter(Boolean);
  if (parts[0] === 'new') return { name: 'new', query };
  if (parts[0] === 'run' && parts[1]) return { name: 'run', id: decodeURIComponent(parts[1]), query };
  if (parts[0] === 'compare') return { name: 'compare', query };
  if (parts[0] === 'study' && parts[1]) return { name: 'study', id: decodeURIComponent(parts[1]), query };
  if (parts[0] === 'studies') return { name: 'studies', query };
  return { name: 'history', query };
}

export const route = ref<Route>(parseHash(typeof location !== 'undefined' ? location.hash : ''));
if (typeof window !== 'undefined') window.addEventListener('hashchange', () => (route.value = parseHash(location.hash)));

export function go(path: string): void {
  location.hash = `#${path}`;
}

/** The browser tab's title: what this page shows, then the app. */
export function setTitle(what: string): void {
  if (typeof document !== 'undefined') document.title = `${what} · ModeLab`;
}

// ------------------------------------------------------------------------------------------------------ theme

const media = typeof window !== 'undefined' ? window.matchMedia('(prefers-color-scheme: dark)') : null;
export const dark = ref(media?.matches ?? false);
media?.addEventListener('change', (e) => (dark.value = e.matches));

// ------------------------------------------------------------------------------------------------------ live jobs

export interface StageState extends ProgressEvent {
  updatedAt: number;
}

export interface LiveRun {
  status: RunStatus | null;
  error: string | null;
  stages: Record<string, StageState>;
}

export const live = reactive<Record<string, LiveRun>>({});
const listeners = new Set<(e: ApiEvent) => void>();

export function onApiEvent(cb: (e: ApiEvent) => void): () => void {
  listeners.add(cb);
  return () => listeners.delete(cb);
}

export function startLiveTracking(): void {
  const client = getClient();
  void refreshRunning().catch(notifyError);
  // Events sent while the connection was down are lost: after a reconnection, ask what runs now.
  client.onReconnect(() => void refreshRunning().catch(notifyError));
  client.onEvent((e) => {
    const r = (live[e.runId] ??= { status: null, error: null, stages: {} });
    if (e.type === 'status') {
      r.status = e.status;
      r.error = e.error;
    } else if (e.event.kind === 'progress') {
      const p = e.event.progress;
      r.stages[p.stage] = { ...p, updatedAt: Date.now() }; // a stage keeps its place: the order stages first reported
      if (r.status === null) r.status = 'running';
    }
    listeners.forEach((l) => l(e));
  });
}

/**
 * Brings the live state in line with the server (at start and after a reconnection): runs it runs that this page has
 * not heard of are added; runs this page believes active that the server no longer runs (finished, or marked
 * cancelled or crashed by a restarted server) take their stored status.
 */
export async function refreshRunning(client: ModeLabClient = getClient()): Promise<void> {
  const { runs } = await client.listRuns({ status: [...ACTIVE], limit: 1000 });
  const active = new Set(runs.map((r) => r.id));
  for (const r of runs) (live[r.id] ??= { status: null, error: null, stages: {} }).status = r.status;
  const stale = Object.keys(live).filter((id) => !active.has(id) && ACTIVE.includes(live[id]!.status ?? 'running'));
  await Promise.all(
    stale.map(async (id) => {
      try {
        const d = await client.getRun(id);
        live[id]!.status = d.status;
        live[id]!.error = d.error;
      } catch {
        delete live[id]; // gone from the history (deleted meanwhile)
      }
    }),
  );
}

export const runningCount = computed(() => Object.values(live).filter((r) => r.status !== null && ACTIVE.includes(r.status)).length);

// ------------------------------------------------------------------------------------------------------ notices

export interface Notice {
  id: number;
  kind: 'info' | 'error';
  text: string;
}
export const notices = ref<Notice[]>([]);
let noticeId = 0;

export function notify(text: string, kind: Notice['kind'] = 'info', ms = 5000): void {
  const n = { id: noticeId++, kind, text };
  notices.value.push(n);
  setTimeout(() => (notices.value = notices.value.filter((x) => x.id !== n.id)), ms);
}

export function notifyError(e: unknown): void {
  notify((e as Error)?.message ?? String(e), 'error', 9000);
}
