/**
 * onnxruntime-node, loaded on first use (its native library is inside the npm package), and the sessions the engine
 * compiles: one per graph kind, network spec and batch shape, created once per process and reused.
 */
import type * as Ort from 'onnxruntime-node';

export type OrtModule = typeof Ort;
export type OrtTensor = Ort.Tensor;
export type OrtSession = Ort.InferenceSession;

let loading: Promise<OrtModule> | null = null;

/** The onnxruntime-node module; rejects with the loader's message when the package or its binary is missing. */
export function loadOrt(): Promise<OrtModule> {
  loading ??= import('onnxruntime-node').then((m) => ((m as { default?: OrtModule }).default ?? m) as OrtModule);
  return loading;
}

/** Whether ONNX Runtime's CPU provider loads here; the reason in one line when it does not. */
export async function probeOrtCpu(): Promise<{ available: boolean; reason?: string; version?: string }> {
  try {
    const ort = await loadOrt();
    const cpu = ort.listSupportedBackends().find((b) => b.name === 'cpu');
    if (!cpu) return { available: false, reason: 'onnxruntime-node lists no CPU provider' };
    return { available: true, version: ort.env.versions.node ?? ort.env.versions.common };
  } catch (e) {
    return { available: false, reason: `onnxruntime-node failed to load: ${(e as Error).message.split('\n')[0]}` };
  }
}

const sessions = new Map<string, Promise<OrtSession>>();

/** The session for `key`, built from `build()`'s model bytes the first time it is asked for. */
export function cachedSession(key: string, build: () => Uint8Array): Promise<OrtSession> {
  let s = sessions.get(key);
  if (!s) {
    s = loadOrt().then((ort) => ort.InferenceSession.create(build(), { executionProviders: ['cpu'], graphOptimizationLevel: 'all' }));
    // A failed compile is not cached: the next call reports the error again instead of a stale rejection.
    s.catch(() => sessions.delete(key));
    sessions.set(key, s);
  }
  return s;
}

/** Number of compiled sessions held (tests check that the cache is keyed by spec and batch shape). */
export function cachedSessionCount(): number {
  return sessions.size;
}
