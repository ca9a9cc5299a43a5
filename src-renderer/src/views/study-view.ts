/** What the study pages show of a study beyond its words (src-main/study/study-text.ts). */
import { FINAL_STATUSES, type StudyCellChange, type StudyDocument, type StudyEvent, type StudyPlanInfo, type StudySummary } from '../api/types';
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

const FINAL: readonly string[] = FINAL_STATUSES;

/** Whether a cell event is older than what the page shows: an earlier attempt's, or its run's active state after
 *  that run ended (a study read again while events were on their way). */
function stale(c: StudyDocument['cells'][number], e: StudyCellChange): boolean {
  if (c.runId === null || c.runId === e.runId) return c.runId !== null && FINAL.includes(c.state) && !FINAL.includes(e.state);
  const at = c.attempts.indexOf(e.runId);
  return at >= 0 && at < c.attempts.indexOf(c.runId);
}

/**
 * Folds a study event into the study page's document: its status, a cell's run and state, the cell counts. Returns
 * 'refresh' when a cell's run finished — its values join the aggregated table, which only the api computes — else
 * whether it changed the page ('changed') or was about another study or older than what the page shows ('ignored').
 */
export function applyStudyEvent(doc: StudyDocument, e: StudyEvent): 'refresh' | 'changed' | 'ignored' {
  if (e.studyId !== doc.study.id) return 'ignored';
  if (e.type === 'study') {
    doc.study.counts = { ...e.progress.counts };
    return 'changed';
  }
  if (e.type === 'study-status') {
    doc.study.status = e.status;
    // 'running' is sent by the coordinator that just claimed the study; any other status by it as it lets go.
    doc.study.live = e.status === 'running';
    return 'changed';
  }
  const c = doc.cells.find((x) => x.index === e.cell.index);
  if (!c || stale(c, e.cell)) return 'ignored';
  c.runId = e.cell.runId;
  c.state = e.cell.state;
  c.error = e.cell.error;
  if (!c.attempts.includes(e.cell.runId)) c.attempts.push(e.cell.runId);
  return e.cell.state === 'finished' ? 'refresh' : 'changed';
}
