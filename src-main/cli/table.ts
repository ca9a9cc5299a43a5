/** Plain-text tables for terminal summaries. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(headers), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
export const num = (x: number, d = 4): string => (Number.isFinite(x) ? x.toFixed(d) : String(x));
