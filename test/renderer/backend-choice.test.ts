/** The backend picker's default choice names what the wire's backends op says a run without a backend gets and where
 *  that comes from (MODELAB_BACKEND or the automatic order), and says when a run on it would be refused. */
import { describe, expect, it } from 'vitest';
import type { BackendsInfo } from '../../src-renderer/src/api/types';
import { defaultChoice } from '../../src-renderer/src/views/backend-choice';

const backends: BackendsInfo['backends'] = [
  { name: 'wasm', available: true },
  { name: 'onnx-cpu', available: true },
  { name: 'onnx-cuda', available: false, reason: 'no CUDA provider' },
];

describe("the backend picker's default", () => {
  it('shows the default the main side computed, with where it comes from', () => {
    const auto = defaultChoice({ backends, default: { name: 'onnx-cpu', from: 'auto', text: 'onnx-cpu (the first available of webgpu, onnx-cpu, wasm)' } });
    expect(auto).toEqual({ label: 'default: onnx-cpu (the first available of webgpu, onnx-cpu, wasm)', problem: null });
    const forced = defaultChoice({ backends, default: { name: 'wasm', from: 'MODELAB_BACKEND', text: 'wasm (MODELAB_BACKEND)' } });
    expect(forced).toEqual({ label: 'default: wasm (MODELAB_BACKEND)', problem: null });
    expect(forced.label).not.toMatch(/fastest/);
  });

  it('says when a run on the default would be refused', () => {
    expect(defaultChoice({ backends, default: { name: 'onnx-cuda', from: 'MODELAB_BACKEND', text: 'onnx-cuda (MODELAB_BACKEND)' } }).problem).toBe(
      'onnx-cuda is not available here (no CUDA provider): a run on the default is refused',
    );
    expect(defaultChoice({ backends, default: { name: 'tpu', from: 'MODELAB_BACKEND', text: 'tpu (MODELAB_BACKEND)' } }).problem).toBe(
      "'tpu' is not a backend ModeLab knows: a run on the default is refused",
    );
    expect(defaultChoice({ backends, default: { name: null, from: 'auto', text: 'none (the first available of wasm)' } }).problem).toBe('no backend is available here');
    expect(defaultChoice(null)).toEqual({ label: 'default', problem: null });
  });
});
