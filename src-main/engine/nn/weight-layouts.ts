/** How a weights file lays out a network's tensors (foreign-layout.ts maps each to ModeLab's). No imports: the
 *  renderer's recipe form offers the same choices. */
export const WEIGHT_LAYOUTS = ['torch', 'keras', 'modelab'] as const;
export type WeightLayout = (typeof WEIGHT_LAYOUTS)[number];
