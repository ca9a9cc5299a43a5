/**
 * The verdict of a path's check (one home: the engine, the CLI and the renderer import it):
 * - 'pass': every proven property held;
 * - 'fail': a proven property did not hold (a construction bug or a broken assumption of the proof);
 * - 'warning': nothing proven failed, but a measured quantity the proof only bounds up to unknown constants (the
 *   Algorithm 1 segments' excess, Õ(ε) in Theorems 2 and 3) exceeded the recipe's tolerance.
 */
export const CHECK_STATES = ['pass', 'warning', 'fail'] as const;
export type CheckState = (typeof CHECK_STATES)[number];

export const CHECK_STATE_LABEL: Record<CheckState, string> = { pass: 'PASS', warning: 'WARNING', fail: 'FAIL' };

/** The worst of several states (fail > warning > pass). */
export function worstState(states: CheckState[]): CheckState {
  return states.includes('fail') ? 'fail' : states.includes('warning') ? 'warning' : 'pass';
}

/** A check's state; documents from before the field have only `pass`. */
export function checkStateOf(check: { state?: CheckState; pass: boolean }): CheckState {
  return check.state ?? (check.pass ? 'pass' : 'fail');
}
