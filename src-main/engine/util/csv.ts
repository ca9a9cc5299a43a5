/** One CSV cell (RFC 4180): empty for null, undefined and non-finite numbers; quoted when it holds a quote, comma or
 *  line break. Objects and lists are written as compact JSON. */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV line, with its line break. */
export const csvLine = (cells: unknown[]): string => `${cells.map(csvCell).join(',')}\n`;
