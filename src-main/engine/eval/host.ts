/** Evaluates host weights (uploaded for the call, then released). */
import { disposeParams, type HostParams, toDevice } from '../nn/params';
import type { ArchSpec } from '../nn/spec';
import { type DeviceSplit, type Metrics, evaluate } from './evaluate';

export async function evaluateHost(spec: ArchSpec, params: HostParams, data: DeviceSplit): Promise<Metrics> {
  const dev = toDevice(params);
  try {
    return await evaluate(spec, dev, data);
  } finally {
    disposeParams(dev);
  }
}
