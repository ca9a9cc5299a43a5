/** Loads the dataset a recipe names, applying its deterministic train/test subsets. */
import { statSync } from 'node:fs';
import type { DatasetConfig } from './config';
import { InputError } from '../util/errors';
import { type Dataset, featureCount, sha256, subset } from './dataset';
import { cifar10Batches, loadCifar10 } from './cifar10';
import { loadFashionMnist } from './fashion';
import { loadIdxDataset, loadMnist } from './mnist';
import { loadNpyFolder, npyShape } from './npy-folder';
import { gaussianMixture, spirals } from './synthetic';

export interface LoadOptions {
  /** Folder for datasets read from disk (CIFAR-10), from --data. */
  dataDir?: string;
}

/**
 * Checks, without loading it, that what a dataset is read from is there: `dataDir` (--data) must be a folder, a
 * CIFAR-10 folder must hold its batch files, an npy folder its four arrays with readable headers. The CLI calls it
 * before a run is stored (InputError: exit 2).
 */
export function checkDatasetFiles(cfg: DatasetConfig, opts: LoadOptions = {}): void {
  if (opts.dataDir !== undefined) {
    const st = statSync(opts.dataDir, { throwIfNoEntry: false });
    if (!st) throw new InputError(`--data ${opts.dataDir}: no such folder`);
    if (!st.isDirectory()) throw new InputError(`--data ${opts.dataDir} is a file, not a folder`);
  }
  if (cfg.name === 'cifar10') cifar10Batches(opts.dataDir ?? cfg.dir);
  if (cfg.name === 'npy') npyShape(cfg);
}

export function loadDataset(cfg: DatasetConfig, opts: LoadOptions = {}): Dataset {
  switch (cfg.name) {
    case 'gaussian-mixture':
      return gaussianMixture(cfg);
    case 'spirals':
      return spirals(cfg);
    default:
      break;
  }
  const norm = { kind: cfg.normalize } as const;
  let d: Dataset;
  switch (cfg.name) {
    case 'mnist':
      d = loadMnist(norm);
      break;
    case 'fashion-mnist':
      d = loadFashionMnist(norm);
      break;
    case 'cifar10':
      d = loadCifar10(opts.dataDir ?? cfg.dir, norm);
      break;
    case 'idx':
      d = loadIdxDataset('idx', cfg, norm, cfg.classes);
      break;
    case 'npy':
      d = loadNpyFolder(cfg, norm);
      break;
  }
  const features = featureCount(d);
  const fullTrain = d.train.n;
  const fullTest = d.test.n;
  const train = subset(d.train, cfg.train, cfg.subsetSeed, features);
  const test = subset(d.test, cfg.test, cfg.subsetSeed + 1, features);
  if (train !== d.train || test !== d.test) {
    d = {
      ...d,
      train,
      test,
      checksum: sha256(d.checksum, JSON.stringify({ train: train.n, test: test.n, subsetSeed: cfg.subsetSeed })),
      source: `${d.source}; subset ${train.n}/${fullTrain} train, ${test.n}/${fullTest} test (seed ${cfg.subsetSeed})`,
    };
  }
  if (d.train.n === 0 || d.test.n === 0) throw new InputError(`dataset ${cfg.name} has an empty split`);
  return d;
}
