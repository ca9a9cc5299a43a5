/** Plain-text tables for terminal summaries: the first `leftColumns` columns left-aligned, the rest (numbers)
 *  right-aligned. */
export function table(headers: string[], rows: string[][], leftColumns = 1): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(headers), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
export const num = (x: number, d = 4): string => (Number.isFinite(x) ? x.toFixed(d) : String(x));
