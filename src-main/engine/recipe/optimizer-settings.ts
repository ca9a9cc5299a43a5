/**
 * The training settings each optimizer reads (the rest of an optimizer block is shared: lr, schedule, batch size,
 * weight decay…). The recipe editor shows only the chosen optimizer's settings. Imports only types: the renderer uses it.
 */
import type { OptimizerConfig } from '../train/optimizers';

export const OPTIMIZER_SETTINGS = {
  sgd: ['momentum', 'nesterov'],
  adam: ['beta1', 'beta2', 'epsilon'],
} as const satisfies Record<string, readonly string[]>;

export type OptimizerName = keyof typeof OPTIMIZER_SETTINGS;

/** Compile-time: each list names exactly the settings its optimizer's configuration has beyond the shared ones. */
type OwnSettings<K extends OptimizerName> = Exclude<keyof Extract<OptimizerConfig, { type: K }>, 'type' | 'lr' | 'weightDecay'>;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const OPTIMIZER_SETTINGS_COMPLETE: { [K in OptimizerName]: Same<OwnSettings<K>, (typeof OPTIMIZER_SETTINGS)[K][number]> } = { sgd: true, adam: true };

/** Settings in a training block that its chosen optimizer does not read (none when the block names no optimizer). */
export function otherOptimizersSettings(block: Record<string, unknown>): string[] {
  const chosen = block['optimizer'];
  if (typeof chosen !== 'string' || !(chosen in OPTIMIZER_SETTINGS)) return [];
  const own: readonly string[] = OPTIMIZER_SETTINGS[chosen as OptimizerName];
  return Object.values(OPTIMIZER_SETTINGS)
    .flat()
    .filter((k) => !own.includes(k));
}
