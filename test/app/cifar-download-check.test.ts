/**
 * The app's CIFAR-10 folder check with the field left empty (''): it reports on the copy `modelab data get cifar10`
 * downloaded under ModeLab's home, where a run started without a folder reads CIFAR-10.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkArgs, inspectCifarDir } from '../../src-main/api/wire';
import { CIFAR10_BATCH_FILES } from '../../src-main/engine/data/cifar10';
import { cifarBatch } from '../engine/tar-files';

let home = '';
let saved: string | undefined;
beforeAll(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'modelab-cifar-home-'));
  saved = process.env['MODELAB_HOME'];
  process.env['MODELAB_HOME'] = home;
});
afterAll(() => {
  process.env['MODELAB_HOME'] = saved;
  rmSync(home, { recursive: true, force: true });
});

describe("inspectDataDir('')", () => {
  it('is accepted on the wire (a relative path still is not)', () => {
    expect(checkArgs('inspectDataDir', [''])).toEqual({ ok: true, value: [''] });
    expect(checkArgs('inspectDataDir', ['relative'])).toMatchObject({ ok: false });
  });

  it('says how to download CIFAR-10 when it is not there, and finds it once it is', () => {
    expect(inspectCifarDir('')).toEqual({
      ok: false,
      message: `CIFAR-10 is not downloaded (nothing in ${path.join(home, 'datasets', 'cifar10')}): run 'modelab data get cifar10', or pass --data DIR with the extracted cifar-10-batches-bin`,
      files: [],
    });
    const dir = path.join(home, 'datasets', 'cifar10', 'cifar-10-batches-bin');
    mkdirSync(dir, { recursive: true });
    for (const f of CIFAR10_BATCH_FILES) writeFileSync(path.join(dir, f), cifarBatch(f === 'test_batch.bin' ? [1, 2] : [0]));
    expect(inspectCifarDir('')).toMatchObject({ ok: true, message: `CIFAR-10 binary batches found (downloaded) in ${dir}: 5 training and 2 test images` });
  });
});
