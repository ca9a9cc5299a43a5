/** A small folder in the CIFAR-10 binary format, for tests of presets that read CIFAR-10 (no download). */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Rng } from '../../src-main/engine/util/rng';

const RECORD = 1 + 3072;

/** A CIFAR-10 binary batch of `n` records of random background bytes, labelled 0 and 1 only (so that a dozen steps
 *  can show progress: the net learns quickly that two of its ten classes occur), class c brightening rows 3c…3c+2 of
 *  channel c. */
export function cifarBatch(n: number, rng: Rng): Buffer {
  const buf = Buffer.alloc(n * RECORD);
  for (let r = 0; r < n; r++) {
    const off = r * RECORD;
    const label = r % 2;
    buf[off] = label;
    for (let p = 0; p < 3072; p++) buf[off + 1 + p] = rng.int(128);
    const plane = label * 1024;
    for (let row = 3 * label; row < 3 * label + 3; row++) for (let col = 0; col < 32; col++) buf[off + 1 + plane + row * 32 + col] = 255;
  }
  return buf;
}

/** Writes the five training batches of `train` records each and a test batch of `test` records into `dir`. */
export function writeCifarFolder(dir: string, o: { train: number; test: number; seed: number }): void {
  const rng = new Rng(o.seed);
  for (let i = 1; i <= 5; i++) writeFileSync(path.join(dir, `data_batch_${i}.bin`), cifarBatch(o.train, rng));
  writeFileSync(path.join(dir, 'test_batch.bin'), cifarBatch(o.test, rng));
}
