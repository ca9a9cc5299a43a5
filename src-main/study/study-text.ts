/**
 * A study's state and cell counts in words, for every front end (the CLI's table and progress line, the app's study
 * pages). Type imports only: the renderer imports this module as it is (test/renderer/boundaries.test.ts). The counts
 * come in the run statuses' order (store/studies.ts countStates).
 */
import type { StudySummary } from './coordinator';

/** A study whose status says running but whose coordinator is gone was interrupted: running it again finishes it. */
export const studyState = (s: Pick<StudySummary, 'status' | 'live'>): string => (s.status === 'running' && !s.live ? 'interrupted' : s.status);

/** `3/9 done, 1 running, 2 failed`. */
export function countsText(s: Pick<StudySummary, 'counts' | 'cells'>): string {
  const c = s.counts;
  const rest = Object.entries(c).filter(([k, n]) => n && k !== 'finished' && k !== 'pending').map(([k, n]) => `${n} ${k}`);
  return `${c.finished}/${s.cells} done${rest.length ? `, ${rest.join(', ')}` : ''}`;
}
