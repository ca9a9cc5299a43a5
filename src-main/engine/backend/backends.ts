/**
 * Backend discovery and selection. Auto-selection goes fastest first (AUTO_ORDER in names.ts):
 * TensorFlow C with CUDA (`@tensorflow/tfjs-node-gpu`), TensorFlow C on CPU (`@tensorflow/tfjs-node`),
 * WebGPU (Dawn from the `webgpu` package, only when an adapter exists), ONNX Runtime on the CPU (`onnx-cpu`),
 * WebAssembly (`wasm`), plain JS (`cpu`); MODELAB_BACKEND overrides it (default.ts).
 * The tfjs-node packages are optional dependencies: they are loaded only when installed and working.
 * The `onnx-*` backends (ONNX Runtime's CPU, WebGPU and CUDA execution providers) run training steps and network
 * evaluation on ONNX Runtime (engine/onnx), everything else on tfjs' wasm backend; onnx-webgpu and onnx-cuda are
 * chosen only by name. The names live in names.ts (pure data, shared with the wire contract).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../util/errors';
import { probeOrtProvider, useOrtProvider } from '../onnx/runtime';
import { BACKEND_ENV, defaultedBackend } from './default';
import { type BackendName, type DefaultBackend, AUTO_BACKEND, AUTO_ORDER, KNOWN_BACKEND_NAMES, isOnnxBackend, onnxProviderOf } from './names';
import { ensureGradients } from './gradients';

export { type BackendName, BACKEND_NAMES, KNOWN_BACKEND_NAMES } from './names';

/** What a run records about where it computed. */
export interface BackendRecord {
  backend: BackendName;
  /** The name tfjs knows the backend by ('tensorflow', 'webgpu', 'wasm', 'cpu'). */
  tfjsBackend: string;
  device: string;
  tfjsVersion: string;
  details: Record<string, string | number | boolean>;
}

export interface BackendProbe {
  name: BackendName;
  available: boolean;
  /** Why not, when unavailable. */
  reason?: string;
}

const require = createRequire(import.meta.url);

function cpuModel(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() ?? 'unknown CPU'} (${cpus.length} logical cores)`;
}

function isInstalled(pkg: string): boolean {
  try {
    require.resolve(`${pkg}/package.json`);
    return true;
  } catch {
    return false;
  }
}

/** Dawn on Linux needs the Vulkan loader; probing without it only prints a native warning, so look first. */
function vulkanLoaderPresent(): boolean {
  if (process.platform !== 'linux') return true;
  const dirs = [
    ...(process.env['LD_LIBRARY_PATH'] ?? '').split(':').filter(Boolean),
    '/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib/aarch64-linux-gnu', '/usr/lib/aarch64-linux-gnu',
    '/usr/lib64', '/lib64', '/usr/lib', '/lib', '/usr/local/lib',
  ];
  if (dirs.some((d) => existsSync(path.join(d, 'libvulkan.so.1')))) return true;
  const ld = spawnSync('ldconfig', ['-p'], { encoding: 'utf8' });
  return ld.status === 0 && ld.stdout.includes('libvulkan.so.1');
}

let webgpuAdapterInfo: Record<string, string> | null = null;
let onnxRuntimeVersion: string | null = null;

async function probeWebGPU(): Promise<BackendProbe> {
  if (!isInstalled('webgpu') || !isInstalled('@tensorflow/tfjs-backend-webgpu')) {
    return { name: 'webgpu', available: false, reason: 'the webgpu packages are not installed' };
  }
  if (!vulkanLoaderPresent()) return { name: 'webgpu', available: false, reason: 'no Vulkan loader (libvulkan.so.1)' };
  try {
    const webgpu = (await import('webgpu')) as unknown as {
      create: (flags: string[]) => GPU;
      globals: Record<string, unknown>;
    };
    const g = globalThis as unknown as { navigator?: { gpu?: GPU } };
    if (!g.navigator?.gpu) {
      Object.assign(globalThis, webgpu.globals);
      const gpu = webgpu.create([]);
      if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
      Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    }
    const adapter = await g.navigator!.gpu!.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { name: 'webgpu', available: false, reason: 'no WebGPU adapter found' };
    const info = adapter.info;
    webgpuAdapterInfo = {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
    };
    return { name: 'webgpu', available: true };
  } catch (e) {
    return { name: 'webgpu', available: false, reason: `WebGPU failed to start: ${(e as Error).message}` };
  }
}

async function probeTensorflow(pkg: string, name: BackendName): Promise<BackendProbe> {
  if (!isInstalled(pkg)) return { name, available: false, reason: `${pkg} is not installed` };
  try {
    await import(pkg);
    return { name, available: true };
  } catch (e) {
    return { name, available: false, reason: `${pkg} failed to load: ${(e as Error).message.split('\n')[0]}` };
  }
}

const probes = new Map<BackendName, Promise<BackendProbe>>();

/** Probes one backend (once per process). tfjs-node and tfjs-node-gpu register the same tfjs name, so a
 *  successful load of one makes the other unavailable. */
export function probeBackend(name: BackendName): Promise<BackendProbe> {
  let p = probes.get(name);
  if (!p) {
    p = (async (): Promise<BackendProbe> => {
      switch (name) {
        case 'tensorflow-gpu':
          return probeTensorflow('@tensorflow/tfjs-node-gpu', name);
        case 'tensorflow': {
          const gpu = probes.get('tensorflow-gpu');
          if (gpu && (await gpu).available) {
            return { name, available: false, reason: 'tfjs-node-gpu is loaded (both register the same backend)' };
          }
          return probeTensorflow('@tensorflow/tfjs-node', name);
        }
        case 'webgpu':
          return probeWebGPU();
        case 'wasm':
          return isInstalled('@tensorflow/tfjs-backend-wasm')
            ? { name, available: true }
            : { name, available: false, reason: '@tensorflow/tfjs-backend-wasm is not installed' };
        case 'cpu':
          return { name, available: true };
        case 'onnx-cpu':
        case 'onnx-webgpu':
        case 'onnx-cuda': {
          if (name === 'onnx-webgpu' && !vulkanLoaderPresent()) {
            return { name, available: false, reason: 'no WebGPU adapter: no Vulkan loader (libvulkan.so.1)' };
          }
          const ort = await probeOrtProvider(onnxProviderOf(name));
          if (!ort.available) return { name, available: false, reason: ort.reason };
          onnxRuntimeVersion = ort.version ?? null;
          return (await probeBackend('wasm')).available
            ? { name, available: true }
            : { name, available: false, reason: 'it computes the rest of a run on wasm, which is not installed' };
        }
      }
    })();
    probes.set(name, p);
  }
  return p;
}

export async function probeAll(): Promise<BackendProbe[]> {
  const out: BackendProbe[] = [];
  for (const n of KNOWN_BACKEND_NAMES) out.push(await probeBackend(n));
  return out;
}

/** The tfjs backend that computes for a ModeLab backend (onnx-*: wasm, for what ONNX Runtime does not do). */
function tfjsBackendOf(name: BackendName): string {
  if (isOnnxBackend(name)) return 'wasm';
  return name.startsWith('tensorflow') ? 'tensorflow' : name;
}

async function activate(name: BackendName): Promise<void> {
  ensureGradients();
  // Production mode: no debug checks, no console notes from tfjs.
  tf.enableProdMode();
  const tfName = tfjsBackendOf(name);
  if (name === 'webgpu') await import('@tensorflow/tfjs-backend-webgpu');
  if (tfName === 'wasm') {
    const dir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
    // The multithreaded wasm build fails under Node; the single-threaded SIMD build is used.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    setWasmPaths(dir);
  }
  const ok = await tf.setBackend(tfName);
  if (!ok || tf.getBackend() !== tfName) throw new Error(`tfjs could not initialise the ${name} backend`);
  await tf.ready();
  if (isOnnxBackend(name)) useOrtProvider(onnxProviderOf(name));
}

function record(name: BackendName): BackendRecord {
  const details: Record<string, string | number | boolean> = { cpu: cpuModel() };
  let device: string;
  switch (name) {
    case 'webgpu': {
      const info = webgpuAdapterInfo ?? {};
      for (const [k, v] of Object.entries(info)) if (v) details[`adapter.${k}`] = v;
      device = [info['vendor'], info['architecture'], info['description'] || info['device']].filter(Boolean).join(' ') ||
        'WebGPU adapter';
      break;
    }
    case 'wasm':
      details['simd'] = true;
      details['threads'] = 1;
      device = `WebAssembly SIMD, 1 thread on ${cpuModel()}`;
      break;
    case 'tensorflow-gpu':
      device = 'TensorFlow C with CUDA';
      break;
    case 'tensorflow':
      device = `TensorFlow C on ${cpuModel()}`;
      break;
    case 'cpu':
      device = `JavaScript on ${cpuModel()}`;
      break;
    case 'onnx-cpu':
    case 'onnx-webgpu':
    case 'onnx-cuda': {
      const provider = onnxProviderOf(name);
      details['onnxruntime'] = onnxRuntimeVersion ?? 'unknown';
      details['onnxProvider'] = provider;
      details['simd'] = true;
      const on = provider === 'cpu' ? 'CPU' : provider === 'webgpu' ? 'WebGPU' : 'CUDA';
      device = `ONNX Runtime ${onnxRuntimeVersion ?? ''} ${on} (training steps, evaluation) and WebAssembly SIMD (the rest) on ${cpuModel()}`;
      break;
    }
  }
  return { backend: name, tfjsBackend: tf.getBackend(), device, tfjsVersion: tf.version_core, details };
}

/** The backend a run without a name gets, and where that comes from: MODELAB_BACKEND, else the first available of
 *  AUTO_ORDER (null when none is). selectBackend's rule, answered without initialising anything; `modelab backends`,
 *  the app's picker (wire backends) and the time estimates read it from here. */
export async function defaultBackend(): Promise<DefaultBackend> {
  const forced = defaultedBackend(undefined);
  if (forced !== undefined) return { name: forced, from: BACKEND_ENV };
  const probes = await probeAll();
  return { name: AUTO_ORDER.find((n) => probes.some((p) => p.name === n && p.available)) ?? null, from: 'auto' };
}

/** The backend a run asked for with `requested` (a name, 'auto' or nothing) computes on; null when none is available. */
export async function backendOfRun(requested: string | undefined): Promise<string | null> {
  return requested !== undefined && requested !== AUTO_BACKEND ? requested : (await defaultBackend()).name;
}

let active: BackendRecord | null = null;

/**
 * Selects and initialises a backend. With no request (or 'auto'): the one already active in this process, else the
 * one MODELAB_BACKEND names, else the first available in AUTO_ORDER. Asking for one that is unknown or not available
 * is an InputError naming those that are (and MODELAB_BACKEND when the name came from it).
 */
export async function selectBackend(requested?: string): Promise<BackendRecord> {
  const named = requested !== undefined && requested !== AUTO_BACKEND;
  if (!named && active) return active;
  const wanted = defaultedBackend(requested);
  if (wanted !== undefined) {
    const from = named ? '' : ` (from ${BACKEND_ENV})`;
    if (!(KNOWN_BACKEND_NAMES as readonly string[]).includes(wanted)) {
      throw new InputError(`unknown backend '${wanted}'${from} (known: ${KNOWN_BACKEND_NAMES.join(', ')})`);
    }
    const name = wanted as BackendName;
    if (active?.backend === name) return active;
    const probe = await probeBackend(name);
    if (!probe.available) {
      const avail = (await probeAll()).filter((p) => p.available).map((p) => p.name);
      throw new InputError(`backend '${name}'${from} is not available here (${probe.reason}); available: ${avail.join(', ')}`);
    }
    await activate(name);
    active = record(name);
    return active;
  }
  for (const name of AUTO_ORDER) {
    const probe = await probeBackend(name);
    if (!probe.available) continue;
    try {
      await activate(name);
      active = record(name);
      return active;
    } catch {
      // try the next one
    }
  }
  throw new Error('no tfjs backend could be initialised');
}

export function activeBackend(): BackendRecord | null {
  return active;
}
