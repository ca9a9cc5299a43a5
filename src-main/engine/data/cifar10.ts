/**
 * CIFAR-10 from the standard binary distribution (cifar-10-binary.tar.gz, extracted): data_batch_1.bin …
 * data_batch_5.bin and test_batch.bin, each 10,000 records of 1 label byte + 3,072 pixel bytes (1,024 red, then
 * green, then blue, row-major 32×32). Converted to NHWC. A batch file of fewer records in the same format (a cut-down
 * copy, a test fixture) is read as it is.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { type Dataset, type NormalizationRequest, channelStats, normalizePixels, sha256 } from './dataset';
import { InputError } from '../util/errors';
import { modelabHome } from '../util/home';

const RECORD = 1 + 3072;
const PER_FILE = 10000;
export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

function resolveDir(dir: string): string {
  // Accept the folder that holds the batches or its parent (the tarball extracts to cifar-10-batches-bin/).
  const nested = path.join(dir, 'cifar-10-batches-bin');
  return !existsSync(path.join(dir, 'test_batch.bin')) && existsSync(path.join(nested, 'test_batch.bin')) ? nested : dir;
}

/** The number of records in a batch file, which must exist and hold whole records. */
function batchRecords(file: string): number {
  const st = statSync(file, { throwIfNoEntry: false });
  if (!st?.isFile()) throw new InputError(`CIFAR-10 batch not found: ${file} (expected the binary version's data_batch_1..5.bin and test_batch.bin)`);
  if (st.size === 0 || st.size % RECORD !== 0) {
    throw new InputError(`${file} has ${st.size} bytes; a CIFAR-10 binary batch holds whole records of 3,073 bytes (${RECORD * PER_FILE} for 10,000)`);
  }
  return st.size / RECORD;
}

/** The batch files of the binary distribution, training first. */
export const CIFAR10_BATCH_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'] as const;

export interface Cifar10Batches {
  /** The folder holding the batches: `dirArg` or its cifar-10-batches-bin/. */
  dir: string;
  train: string[];
  test: string[];
  /** Records (images) in the training and in the test batches. */
  trainRecords: number;
  testRecords: number;
}

/** Where `modelab data get cifar10` unpacks CIFAR-10 (cifar-10-batches-bin/ inside it), and where a recipe that names
 *  no folder (no --data, no `dir`) reads it: <ModeLab's home>/datasets/cifar10. */
export function cifar10DefaultDir(home = modelabHome()): string {
  return path.join(home, 'datasets', 'cifar10');
}

/**
 * The batch files of the CIFAR-10 folder `dirArg` (or of its cifar-10-batches-bin/; when not given, of the folder
 * `modelab data get cifar10` fills), checked without reading them: each must be there and hold whole records. The
 * one rule for a CIFAR-10 folder: the CLI checks `--data` with it before a run starts, the app's folder check reports
 * what it says.
 */
export function cifar10Batches(dirArg: string | undefined): Cifar10Batches {
  if (!dirArg) {
    const home = cifar10DefaultDir();
    if (!existsSync(path.join(resolveDir(home), 'test_batch.bin'))) {
      throw new InputError(`CIFAR-10 is not downloaded (nothing in ${home}): run 'modelab data get cifar10', or pass --data DIR with the extracted cifar-10-batches-bin`);
    }
    return cifar10Batches(home);
  }
  if (!existsSync(dirArg)) throw new InputError(`CIFAR-10 folder not found: ${dirArg}`);
  if (!statSync(dirArg).isDirectory()) throw new InputError(`CIFAR-10 folder ${dirArg} is a file, not a folder`);
  const dir = resolveDir(dirArg);
  const files = CIFAR10_BATCH_FILES.map((f) => path.join(dir, f));
  const train = files.slice(0, 5);
  const test = files.slice(5);
  const count = (list: string[]): number => list.reduce((n, f) => n + batchRecords(f), 0);
  return { dir, train, test, trainRecords: count(train), testRecords: count(test) };
}

function readBatches(files: string[]): { images: Uint8Array; labels: Int32Array; hashes: string[] } {
  const counts = files.map(batchRecords);
  const total = counts.reduce((a, b) => a + b, 0);
  const images = new Uint8Array(total * 3072);
  const labels = new Int32Array(total);
  const hashes: string[] = [];
  let first = 0;
  files.forEach((file, f) => {
    const buf = readFileSync(file);
    hashes.push(sha256(buf));
    for (let r = 0; r < counts[f]!; r++) {
      const off = r * RECORD;
      const label = buf[off]!;
      if (label > 9) throw new InputError(`${file} record ${r} has label ${label}; CIFAR-10 labels are 0..9`);
      const n = first + r;
      labels[n] = label;
      const dst = n * 3072;
      for (let p = 0; p < 1024; p++) {
        images[dst + 3 * p] = buf[off + 1 + p]!;
        images[dst + 3 * p + 1] = buf[off + 1 + 1024 + p]!;
        images[dst + 3 * p + 2] = buf[off + 1 + 2048 + p]!;
      }
    }
    first += counts[f]!;
  });
  return { images, labels, hashes };
}

export function loadCifar10(dirArg: string | undefined, normalize: NormalizationRequest): Dataset {
  const files = cifar10Batches(dirArg);
  const dir = files.dir;
  const train = readBatches(files.train);
  const test = readBatches(files.test);
  const stats = normalize.kind === 'standardize' ? channelStats(train.images, 3) : undefined;
  const tr = normalizePixels(train.images, 3, normalize, stats);
  const te = normalizePixels(test.images, 3, normalize, stats);
  return {
    name: 'cifar10',
    inputShape: [32, 32, 3],
    classes: 10,
    train: { x: tr.x, y: train.labels, n: train.labels.length },
    test: { x: te.x, y: test.labels, n: test.labels.length },
    normalization: tr.normalization,
    checksum: sha256(...train.hashes, ...test.hashes),
    source: `CIFAR-10 binary batches in ${dir}`,
  };
}
