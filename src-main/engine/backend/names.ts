/**
 * The backend names, in one place: the CLI, the wire contract (api/wire.ts), the server's start check and the
 * renderer's picker (which lists what `backends()` returns) all read them from here. Pure data, so the wire contract
 * can import it without loading tfjs or ONNX Runtime.
 */

/** The tfjs backends, in auto-selection order. */
export const BACKEND_NAMES = ['tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
/** ONNX Runtime backends (engine/onnx), one per execution provider; chosen only by name (never automatically yet). */
export const ONNX_BACKEND_NAMES = ['onnx-cpu', 'onnx-webgpu', 'onnx-cuda'] as const;
export const KNOWN_BACKEND_NAMES = [...BACKEND_NAMES, ...ONNX_BACKEND_NAMES] as const;
export type BackendName = (typeof KNOWN_BACKEND_NAMES)[number];
export type OnnxBackendName = (typeof ONNX_BACKEND_NAMES)[number];

/** A request for the fastest available backend. */
export const AUTO_BACKEND = 'auto';

/** The --backend choices as help text shows them. */
export const BACKEND_CHOICES_HELP = `${BACKEND_NAMES.join(' | ')} (default: fastest available), or ${ONNX_BACKEND_NAMES.join(' | ')}`;

export function isOnnxBackend(name: string | undefined): name is OnnxBackendName {
  return (ONNX_BACKEND_NAMES as readonly string[]).includes(name ?? '');
}

/** The ONNX Runtime execution provider an onnx-* backend runs its graphs on. */
export function onnxProviderOf(name: OnnxBackendName): 'cpu' | 'webgpu' | 'cuda' {
  return name === 'onnx-cpu' ? 'cpu' : name === 'onnx-webgpu' ? 'webgpu' : 'cuda';
}
