/**
 * onnxruntime-node, loaded on first use (its native library is inside the npm package), and the sessions the engine
 * compiles: one per graph kind, network spec and batch shape, created once per process and reused.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { GraphBuilder } from './graph';

export type OrtModule = typeof Ort;
export type OrtTensor = Ort.Tensor;
export type OrtSession = Ort.InferenceSession;

const require = createRequire(import.meta.url);

let loading: Promise<OrtModule> | null = null;

/** The onnxruntime-node module; rejects with the loader's message when the package or its binary is missing. */
export function loadOrt(): Promise<OrtModule> {
  loading ??= import('onnxruntime-node').then((m) => ((m as { default?: OrtModule }).default ?? m) as OrtModule);
  return loading;
}

export type OrtProvider = 'cpu' | 'webgpu' | 'cuda';

/** The execution provider sessions are created for (set when an onnx-* backend is selected). */
let provider: OrtProvider = 'cpu';

export function useOrtProvider(p: OrtProvider): void {
  provider = p;
}

/**
 * ONNX Runtime's intra-op threads per session: MODELAB_THREADS_PER_PROCESS, which the pool owner sets for every worker
 * process it starts (so that processes × threads fits the cores), else every core of this machine.
 */
export function ortThreads(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['MODELAB_THREADS_PER_PROCESS'];
  if (raw !== undefined && /^[1-9]\d{0,3}$/.test(raw.trim())) return Number(raw.trim());
  return os.availableParallelism();
}

/** The CUDA provider is a separate library that onnxruntime-node's install script downloads on request. */
function cudaProviderInstalled(): boolean {
  try {
    const dir = path.dirname(require.resolve('onnxruntime-node/package.json'));
    const bin = path.join(dir, 'bin', 'napi-v6', process.platform, process.arch);
    return existsSync(path.join(bin, process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so'));
  } catch {
    return false;
  }
}

/** A one-operator model that a provider must run for it to count as available. */
function probeModel(): Uint8Array {
  const g = new GraphBuilder('modelab_probe');
  const a = g.input('a', 'float', [2, 2]);
  g.output('y', g.op('MatMul', [a, a]), 'float', [2, 2]);
  return g.serialize();
}

/**
 * Whether ONNX Runtime runs a graph on `p` here, with the reason in one line when it does not: the binding must list
 * the provider, its library must be present (CUDA), and a session on it must run (WebGPU needs an adapter).
 */
export async function probeOrtProvider(p: OrtProvider): Promise<{ available: boolean; reason?: string; version?: string }> {
  let ort: OrtModule;
  try {
    ort = await loadOrt();
  } catch (e) {
    return { available: false, reason: `onnxruntime-node failed to load: ${(e as Error).message.split('\n')[0]}` };
  }
  const listed = ort.listSupportedBackends().find((b) => b.name === p);
  if (!listed) return { available: false, reason: `onnxruntime-node lists no ${p} provider on this platform` };
  if (p === 'cuda' && !cudaProviderInstalled()) {
    return { available: false, reason: 'the CUDA provider is not installed (onnxruntime-node-install=cuda12; docs/backends.md)' };
  }
  const version = ort.env.versions.node ?? ort.env.versions.common;
  if (p === 'cpu') return { available: true, version };
  try {
    const session = await ort.InferenceSession.create(probeModel(), { executionProviders: [p] });
    await session.run({ a: new ort.Tensor('float32', new Float32Array([1, 2, 3, 4]), [2, 2]) });
    await session.release();
    return { available: true, version };
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0]!;
    const why = /adapter/i.test(msg) ? 'no WebGPU adapter found' : msg.replace(/^.*?\] /, '').slice(0, 160);
    return { available: false, reason: `the ${p} provider does not start: ${why}` };
  }
}

/**
 * Intra-op threads sleep instead of spinning between operators. ModeLab runs several processes at once (worker
 * pools) and often shares its cores; measured on the shared 2-core machine (MLP training, batch 128), two spinning
 * threads trained at 1,200–4,000 samples/s and two sleeping ones at 3,500–15,000 (docs/performance.md).
 */
const NO_SPINNING = { session: { intra_op: { allow_spinning: '0' } } };

/** How every ModeLab session is created on provider `p` (with `threads` intra-op threads: ortThreads() unless given). */
export function sessionOptions(p: OrtProvider, threads = ortThreads()): Ort.InferenceSession.SessionOptions {
  return { executionProviders: [p], graphOptimizationLevel: 'all', intraOpNumThreads: threads, extra: NO_SPINNING };
}

const sessions = new Map<string, Promise<OrtSession>>();

/** The session for `key` on the selected provider, built from `build()`'s model bytes the first time it is asked for;
 *  with `threads` intra-op threads (ortThreads() unless given: the bench times other counts). */
export function cachedSession(key: string, build: () => Uint8Array, threads = ortThreads()): Promise<OrtSession> {
  const full = `${provider}/${threads}/${key}`;
  let s = sessions.get(full);
  if (!s) {
    const options = sessionOptions(provider, threads);
    s = loadOrt().then((ort) => ort.InferenceSession.create(build(), options));
    // A failed compile is not cached: the next call reports the error again instead of a stale rejection.
    s.catch(() => sessions.delete(full));
    sessions.set(full, s);
  }
  return s;
}

/** Number of compiled sessions held (tests check that the cache is keyed by spec and batch shape). */
export function cachedSessionCount(): number {
  return sessions.size;
}
