/**
 * App-wide state: the hash route, the colour scheme (follows the OS; the desktop menu can override it through
 * Electron's nativeTheme, which drives the same media query), live progress of running jobs, and notifications.
 */
import { computed, reactive, ref } from 'vue';
import { getClient } from './api/client';
import type { ApiEvent, ProgressEvent, RunStatus } from './api/types';

// ------------------------------------------------------------------------------------------------------ route

export type RouteName = 'new' | 'run' | 'history' | 'compare';
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
  return { name: 'history', query };
}

export const route = ref<Route>(parseHash(typeof location !== 'undefined' ? location.hash : ''));
if (typeof window !== 'undefined') window.addEventListener('hashchange', () => (route.value = parseHash(location.hash)));

export function go(path: string): void {
  location.hash = `#${path}`;
}

// ------------------------------------------------------------------------------------------------------ theme

const media = typeof window !== 'undefined' ? window.matchMedia('(prefers-color-scheme: dark)') : null;
export const dark = ref(media?.matches ?? false);
media?.addEventListener('change', (e) => (dark.value = e.matches));

// ------------------------------------------------------------------------------------------------------ live jobs

export interface StageState extends ProgressEvent {
  order: number;
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

let stageCounter = 0;
export function startLiveTracking(): void {
  getClient().onEvent((e) => {
    const r = (live[e.runId] ??= { status: null, error: null, stages: {} });
    if (e.type === 'status') {
      r.status = e.status;
      r.error = e.error;
    } else if (e.type === 'progress') {
      const prev = r.stages[e.event.stage];
      r.stages[e.event.stage] = { ...e.event, order: prev?.order ?? stageCounter++, updatedAt: Date.now() };
      if (r.status === null) r.status = 'running';
    }
    listeners.forEach((l) => l(e));
  });
}

export const runningCount = computed(() => Object.values(live).filter((r) => r.status === 'running' || r.status === 'queued').length);

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
