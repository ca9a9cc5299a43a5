/**
 * Two numbers that a check compares ("max a ≤ bound b"), printed with the fewest significant digits — at least
 * `digits` — that keep different numbers apart: "0.17183 ≤ 0.17184", not "0.1718 ≤ 0.1718" (issue 13 item 9).
 * Equal numbers print alike. The CLI and the renderer both use it.
 */
export function distinctDigits(a: number, b: number, digits = 4): [string, string] {
  const fmt = (x: number, p: number): string => (Number.isFinite(x) ? Number(x.toPrecision(p)).toString() : String(x));
  for (let p = digits; p < 17; p++) {
    const [sa, sb] = [fmt(a, p), fmt(b, p)];
    if (sa !== sb || a === b) return [sa, sb];
  }
  return [fmt(a, 17), fmt(b, 17)];
}
