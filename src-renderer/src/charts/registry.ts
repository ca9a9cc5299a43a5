/**
 * End-to-end tests read the charts' options here: with `?e2e` in the page URL, every chart publishes its current
 * option as `window.__modelab_charts[name]`. Nothing is published otherwise.
 */
const enabled = typeof location !== 'undefined' && new URLSearchParams(location.search).has('e2e');

export function publishChart(name: string, option: unknown): void {
  if (!enabled) return;
  const w = window as unknown as { __modelab_charts?: Record<string, unknown> };
  (w.__modelab_charts ??= {})[name] = option;
}

export function unpublishChart(name: string): void {
  if (!enabled) return;
  const w = window as unknown as { __modelab_charts?: Record<string, unknown> };
  if (w.__modelab_charts) delete w.__modelab_charts[name];
}
