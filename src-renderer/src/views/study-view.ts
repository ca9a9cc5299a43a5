/** What the study pages show of a study beyond its words (src-main/study/study-text.ts). */
import type { StudyPlanInfo, StudySummary } from '../api/types';
import { duration } from '../util/format';

export { countsText, studyState } from '../../../src-main/study/study-text';

/** Whether its cells may still change: just created (its coordinator about to start), a live coordinator, or cells
 *  queued or running. */
export const studyActive = (s: Pick<StudySummary, 'status' | 'live' | 'counts'>): boolean => s.status === 'created' || s.live || s.counts.running > 0 || s.counts.queued > 0;

/** A plan before it starts: `4 cells (architecture.hidden × 2 trials); about 1 min 30 s here, 2 at once`. */
export function planText(p: StudyPlanInfo): string {
  const shape = [...p.axes, `${p.trials} trial${p.trials === 1 ? '' : 's'}`].join(' × ');
  const e = p.estimate;
  const time = e.seconds === null ? (e.note ?? 'time not estimated') : `about ${duration(e.seconds)} here, ${e.parallel} at once`;
  return `${p.cells} cell${p.cells === 1 ? '' : 's'} (${shape}); ${time}`;
}
