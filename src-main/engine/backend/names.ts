/**
 * The backend names, in one place: the CLI, the wire contract (api/wire.ts), the server's start check and the
 * renderer's picker (which lists what `backends()` returns) all read them from here. Pure data, so the wire contract
 * can import it without loading tfjs or ONNX Runtime.
 */

/** The tfjs backends. */
export const BACKEND_NAMES = ['tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
/** ONNX Runtime backends (engine/onnx), one per execution provider. */
export const ONNX_BACKEND_NAMES = ['onnx-cpu', 'onnx-webgpu', 'onnx-cuda'] as const;
export const KNOWN_BACKEND_NAMES = [...BACKEND_NAMES, ...ONNX_BACKEND_NAMES] as const;
export type BackendName = (typeof KNOWN_BACKEND_NAMES)[number];
export type OnnxBackendName = (typeof ONNX_BACKEND_NAMES)[number];

/**
 * Auto-selection order, fastest first: the first available one is the default (unless MODELAB_BACKEND names one).
 * onnx-cpu comes before wasm: on a 2-core machine it trains the MLPs 4–8× and the paper's CNN 5.3× as fast (one bench
 * run at load 4; 2.8× at load 10) and runs mnist-mlp end to end 2–3× faster (docs/performance.md), and the test
 * folders pass with either as the default (docs/backends.md).
 * onnx-webgpu and onnx-cuda are chosen by name only: not measured against the tfjs GPU backends yet.
 */
export const AUTO_ORDER: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'webgpu', 'onnx-cpu', 'wasm', 'cpu'];

/** Backends that compute on this machine's CPU cores, a process's own threads at a time (tfjs' wasm and cpu: one;
 *  onnx-cpu: its intra-op threads), so that more processes use more cores (jobs/points.ts). */
export const CPU_PROCESS_BACKENDS: readonly BackendName[] = ['wasm', 'cpu', 'onnx-cpu'];

/** A request for the default backend (MODELAB_BACKEND, else the fastest available: default.ts). */
export const AUTO_BACKEND = 'auto';

/** The environment variable that sets the default backend (default.ts). */
export const BACKEND_ENV = 'MODELAB_BACKEND';

/** The backend a run without a name gets (null: none is available) and where that comes from (backends.ts
 *  defaultBackend): carried by the wire's backends op, so the app's picker shows what `modelab backends` says. */
export interface DefaultBackend {
  name: string | null;
  from: typeof BACKEND_ENV | 'auto';
}

/** The default in words, as `modelab backends` and the app's picker show it. */
export function defaultBackendText(d: DefaultBackend): string {
  return `${d.name ?? 'none'} (${d.from === BACKEND_ENV ? BACKEND_ENV : `the first available of ${AUTO_ORDER.join(', ')}`})`;
}

/** The --backend choices as help text shows them. */
export const BACKEND_CHOICES_HELP = KNOWN_BACKEND_NAMES.join(' | ');
/** What a run gets without --backend, as help text says it. */
export const BACKEND_DEFAULT_HELP = `default: MODELAB_BACKEND, else the first available of ${AUTO_ORDER.join(', ')}`;

export function isOnnxBackend(name: string | undefined): name is OnnxBackendName {
  return (ONNX_BACKEND_NAMES as readonly string[]).includes(name ?? '');
}

/** The ONNX Runtime execution provider an onnx-* backend runs its graphs on. */
export function onnxProviderOf(name: OnnxBackendName): 'cpu' | 'webgpu' | 'cuda' {
  return name === 'onnx-cpu' ? 'cpu' : name === 'onnx-webgpu' ? 'webgpu' : 'cuda';
}
