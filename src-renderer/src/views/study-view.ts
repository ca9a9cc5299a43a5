/** What the study pages show of a study beyond its words (src-main/study/study-text.ts). */
import type { StudySummary } from '../api/types';

export { countsText, studyState } from '../../../src-main/study/study-text';

/** Whether its cells may still change: just created (its coordinator about to start), a live coordinator, or cells
 *  queued or running. */
export const studyActive = (s: Pick<StudySummary, 'status' | 'live' | 'counts'>): boolean => s.status === 'created' || s.live || s.counts.running > 0 || s.counts.queued > 0;
