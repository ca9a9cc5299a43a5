/** The backend picker's default choice: what `modelab backends` says a run without a named backend gets (the wire's
 *  backends op computes it: MODELAB_BACKEND, else the first available of the automatic order), never re-derived here. */
import type { BackendsInfo } from '../api/types';

export interface DefaultChoice {
  /** The choice's label, e.g. "default: onnx-cpu (the first available of …)". */
  label: string;
  /** Why a run on the default would be refused (MODELAB_BACKEND names a backend not available here), else null. */
  problem: string | null;
}

export function defaultChoice(info: BackendsInfo | null): DefaultChoice {
  if (!info) return { label: 'default', problem: null };
  const d = info.default;
  const here = d.name === null ? undefined : info.backends.find((b) => b.name === d.name);
  const problem =
    d.name === null
      ? 'no backend is available here'
      : !here
        ? `'${d.name}' is not a backend ModeLab knows: a run on the default is refused`
        : here.available
          ? null
          : `${d.name} is not available here (${here.reason ?? 'unknown reason'}): a run on the default is refused`;
  return { label: `default: ${d.text}`, problem };
}
