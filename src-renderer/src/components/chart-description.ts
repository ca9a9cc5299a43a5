/**
 * A chart's text alternative (the canvas says nothing to a screen reader): its title, kind, axes and series, read
 * from the ECharts option it draws.
 */

/** How many series names the description lists before "and N more". */
const MAX_NAMED = 6;

const list = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v : v && typeof v === 'object' ? [v] : []) as Record<string, unknown>[];

function axisName(axis: unknown): string {
  const name = list(axis)[0]?.['name'];
  return typeof name === 'string' ? name.trim() : '';
}

export function describeChart(title: string, option: Record<string, unknown>): string {
  const series = list(option['series']);
  const kinds = [...new Set(series.map((s) => s['type']).filter((t): t is string => typeof t === 'string'))];
  const names = [...new Set(series.map((s) => s['name']).filter((n): n is string => typeof n === 'string' && n !== ''))];
  const x = axisName(option['xAxis']);
  const y = axisName(option['yAxis']);
  let text = `${title ? `${title}: ` : ''}${kinds.length ? kinds.join(' and ') : 'empty'} chart`;
  if (x && y) text += ` of ${y} against ${x}`;
  else if (x || y) text += ` over ${x || y}`;
  if (names.length) text += `; series ${names.slice(0, MAX_NAMED).join(', ')}${names.length > MAX_NAMED ? ` and ${names.length - MAX_NAMED} more` : ''}`;
  return `${text}.`;
}
