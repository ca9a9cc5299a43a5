/**
 * Evaluates host weights: the one place where a network's loss and accuracy over a split are computed from host
 * weights, so the backend is chosen here. With an onnx-* backend, ONNX Runtime computes them over the split's host rows
 * (onnx/evaluate.ts, in the split's batches); otherwise the weights are uploaded to tfjs for the call, then released.
 */
import { activeBackend } from '../backend/backends';
import { isOnnxBackend } from '../backend/names';
import { disposeParams, type HostParams, toDevice } from '../nn/params';
import type { ArchSpec } from '../nn/spec';
import { onnxEvaluate } from '../onnx/evaluate';
import { type DeviceSplit, type Metrics, evaluate } from './evaluate';

/** Whether network evaluation runs on ONNX Runtime (an onnx-* backend is selected). */
export function evaluatesOnOnnx(): boolean {
  return isOnnxBackend(activeBackend()?.backend);
}

export async function evaluateHost(spec: ArchSpec, params: HostParams, data: DeviceSplit): Promise<Metrics> {
  if (evaluatesOnOnnx()) return onnxEvaluate(spec, params, data.host, data.batchSize);
  const dev = toDevice(params);
  try {
    return await evaluate(spec, dev, data);
  } finally {
    disposeParams(dev);
  }
}
