/**
 * Bundles as untrusted input (issue 12): links and special files (folder or zip), file-then-folder zip entries, size
 * limits counted while unpacking, manifest checksums, history.json / run.json validation, malformed or missing tensors,
 * and a run that is already in the history. Every refusal is one line, leaves no staging folder behind and leaves the
 * history as it was (rows and files).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ZipFile } from 'yazl';
import { evalDataSafetensors } from '../../src-main/engine/experiment/export';
import { encodeSafetensors } from '../../src-main/engine/io/safetensors';
import { InputError } from '../../src-main/engine/util/errors';
import { type ImportOptions, exportBundles, importBundles, RunExistsError } from '../../src-main/store/bundle';
import type { BundleLimits } from '../../src-main/store/bundle-files';
import { MANIFEST, writeManifest } from '../../src-main/store/bundle-manifest';
import type { HistoryStore } from '../../src-main/store/history';
import { syntheticRun, tempStore } from './helpers';

let store: HistoryStore;
let dir: string;
let cleanup: () => Promise<void>;
/** A valid bundle folder (with evaluation data) of a run no longer in the history. */
let good: string;
let goodId: string;

function split(n: number, seed: number): { x: Float32Array; y: Int32Array; n: number } {
  return { x: Float32Array.from({ length: n * 3 }, (_, k) => Math.cos(seed + k)), y: Int32Array.from({ length: n }, (_, k) => k % 4), n };
}

beforeEach(async () => {
  ({ store, dir, cleanup } = await tempStore());
  goodId = await syntheticRun(store, { name: 'source' });
  good = path.join(dir, 'good');
  await exportBundles(store, [goodId], good);
  writeFileSync(path.join(good, 'eval-data.safetensors'), evalDataSafetensors([1, 1, 3], { train: split(5, 1), test: split(3, 2) }));
  writeManifest(good);
  await store.delete([goodId]);
});
afterEach(async () => {
  await cleanup();
});

/** Every file and folder under the artifact folder (staging folders and tmp/ included), and the run count. */
async function snapshot(): Promise<{ runs: number; files: string[] }> {
  const a = store.artifacts.dir;
  const files = existsSync(a) ? (readdirSync(a, { recursive: true }) as string[]).sort() : [];
  return { runs: (await store.list()).total, files };
}

/** Imports `src`, expecting a one-line InputError matching every `want`; the history and its folder are unchanged. */
async function expectRefused(src: string, wants: RegExp[], opts: ImportOptions = {}): Promise<void> {
  const before = await snapshot();
  const err = await importBundles(store, src, opts).then(
    () => null,
    (e: unknown) => e as Error,
  );
  expect(err, `${src} was imported`).toBeInstanceOf(InputError);
  expect(err!.message.split('\n')).toHaveLength(1);
  for (const w of wants) expect(err!.message, err!.message).toMatch(w);
  expect(await snapshot()).toEqual(before);
}

function copyOf(name: string): string {
  const d = path.join(dir, name);
  cpSync(good, d, { recursive: true });
  return d;
}

/** Applies `edit` to a copy of the good bundle and rewrites its manifest, so that only the edit itself is judged. */
function edited(name: string, edit: (d: string) => void): string {
  const d = copyOf(name);
  edit(d);
  writeManifest(d);
  return d;
}

interface Entry {
  name: string;
  data?: Buffer;
  mode?: number;
  dir?: boolean;
  compress?: boolean;
}

function zipOf(name: string, entries: Entry[]): Promise<string> {
  const file = path.join(dir, name);
  const zip = new ZipFile();
  for (const e of entries) {
    if (e.dir) zip.addEmptyDirectory(e.name, { mode: e.mode ?? 0o40755 });
    else zip.addBuffer(e.data ?? Buffer.alloc(0), e.name, { mode: e.mode ?? 0o100644, compress: e.compress ?? false });
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => {
      writeFileSync(file, Buffer.concat(chunks));
      resolve(file);
    });
    zip.outputStream.on('error', reject);
    zip.end();
  });
}

/** The good bundle's files as zip entries. */
function bundleEntries(prefix = ''): Entry[] {
  return (readdirSync(good, { recursive: true }) as string[])
    .sort()
    .filter((f) => f !== 'paths')
    .map((f) => ({ name: `${prefix}${f.split(path.sep).join('/')}`, data: readFileSync(path.join(good, f)) }));
}

const small: BundleLimits = { entryBytes: 200, totalBytes: 250, entries: 100 };

describe('a good bundle', () => {
  it('imports (folder and zip), keeps its id, and its manifest checks with sha256sum', async () => {
    expect((await importBundles(store, good)).ids).toEqual([goodId]);
    await store.delete([goodId]);
    const zip = await zipOf('good.zip', bundleEntries());
    expect(await importBundles(store, zip)).toEqual({ ids: [goodId], skipped: [], warnings: [] });
    expect((await store.get(goodId)).artifacts.map((a) => a.role)).toContain('eval-data');
    expect(execFileSync('sha256sum', ['-c', '--quiet', MANIFEST], { cwd: good, encoding: 'utf8' })).toBe('');
  });
});

describe('what is not a bundle', () => {
  it('/dev/null, a text file and a missing path: one line each', async () => {
    await expectRefused('/dev/null', [/\/dev\/null is a character device, not a bundle folder or \.zip file/]);
    const text = path.join(dir, 'notes.txt');
    writeFileSync(text, 'hello');
    await expectRefused(text, [/notes\.txt is neither a bundle folder nor a \.zip file/]);
    await expectRefused(path.join(dir, 'nope.zip'), [/bundle not found: .*nope\.zip/]);
    const empty = path.join(dir, 'empty');
    mkdirSync(empty);
    await expectRefused(empty, [/empty holds no run bundle \(no run\.json\)/]);
  });
});

describe('links and special files', () => {
  it('a folder bundle: a link to a file outside, to /, to /dev/zero, and a FIFO are refused, named, never followed', async () => {
    writeFileSync(path.join(dir, 'outside.json'), '{}');
    const cases: [string, (d: string) => void, RegExp][] = [
      ['file-link', (d) => symlinkSync(path.join(dir, 'outside.json'), path.join(d, 'paths', 'extra.json')), /'paths\/extra\.json': it is a symbolic link/],
      ['root-link', (d) => symlinkSync('/', path.join(d, 'disk')), /'disk': it is a symbolic link/],
      [
        'zero-link',
        (d) => {
          rmSync(path.join(d, 'eval-data.safetensors'));
          symlinkSync('/dev/zero', path.join(d, 'eval-data.safetensors'));
        },
        /'eval-data\.safetensors': it is a symbolic link/,
      ],
      ['fifo', (d) => execFileSync('mkfifo', [path.join(d, 'pipe')]), /'pipe': it is a FIFO/],
    ];
    for (const [name, edit, want] of cases) {
      const d = copyOf(name);
      edit(d);
      await expectRefused(d, [want]);
    }
  });

  it('a zip: a symlink entry, a device entry, `same` then `same/child`, a duplicate entry are refused, named', async () => {
    const cases: [Entry[], RegExp][] = [
      [[...bundleEntries(), { name: 'paths/evil.json', data: Buffer.from('/etc/passwd'), mode: 0o120777 }], /'paths\/evil\.json': it is a symbolic link/],
      [[{ name: 'zero', mode: 0o020666 }, ...bundleEntries()], /'zero': it is a character device/],
      [[{ name: 'same', data: Buffer.alloc(1000) }, { name: 'same/child', data: Buffer.from('x') }, ...bundleEntries()], /the entry 'same\/child' needs 'same' to be a folder, but 'same' is a file/],
      [[{ name: 'same', data: Buffer.from('x') }, { name: 'same/', dir: true }], /the entry 'same\/' needs 'same' to be a folder/],
      [[...bundleEntries(), { name: 'run.json', data: Buffer.from('{}') }], /the entry 'run\.json' appears twice/],
    ];
    for (const [k, [entries, want]] of cases.entries()) {
      const zip = await zipOf(`bad-${k}.zip`, entries);
      await expectRefused(zip, [want]);
    }
  });
});

describe('size limits', () => {
  it('a zip entry over the limit, and a zip over the total, are refused while unpacking', async () => {
    await expectRefused(await zipOf('big.zip', [{ name: 'big.bin', data: Buffer.alloc(300) }]), [/'big\.bin' is 0\.0 MB, over the/], { limits: small });
    await expectRefused(await zipOf('total.zip', [{ name: 'a', data: Buffer.alloc(150) }, { name: 'b', data: Buffer.alloc(150) }]), [/unpacks to more than .* in all/], {
      limits: small,
    });
  });

  it('a zip that declares a small size but holds more: the bytes are counted, not the header believed', async () => {
    const zip = await zipOf('liar.zip', [{ name: 'liar.bin', data: Buffer.alloc(300, 7), compress: true }]);
    const b = readFileSync(zip);
    // Declared uncompressed size: offset 22 of the local header, offset 24 of the central directory record.
    b.writeUInt32LE(10, 22);
    const cd = b.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    b.writeUInt32LE(10, cd + 24);
    writeFileSync(zip, b);
    await expectRefused(zip, [/'liar\.bin': too many bytes in the stream/], { limits: small });
  });

  it('a folder bundle file over the limit, and too many files, are refused', async () => {
    await expectRefused(good, [/'endpoints\.safetensors' is .* over the/], { limits: { entryBytes: 100, totalBytes: 10_000, entries: 100 } });
    await expectRefused(good, [/more than 3 files and folders/], { limits: { entryBytes: 1e6, totalBytes: 1e7, entries: 3 } });
  });
});

describe('manifest.sha256', () => {
  it('a changed file is refused, naming it; so are a file added or removed after export and a malformed manifest', async () => {
    const tampered = copyOf('tampered');
    const w = readFileSync(path.join(tampered, 'endpoints.safetensors'));
    w.writeUInt8(w.readUInt8(w.length - 1) ^ 1, w.length - 1); // one bit of the last weight: still a valid safetensors file
    writeFileSync(path.join(tampered, 'endpoints.safetensors'), w);
    await expectRefused(tampered, [/tampered\/endpoints\.safetensors does not match its checksum in manifest\.sha256/]);

    const added = copyOf('added');
    writeFileSync(path.join(added, 'paths', 'extra.json'), '{}');
    await expectRefused(added, [/'paths\/extra\.json' is not listed in manifest\.sha256/]);

    const removed = copyOf('removed');
    rmSync(path.join(removed, 'paths', 'linear.json'));
    await expectRefused(removed, [/'paths\/linear\.json' is listed in manifest\.sha256 but missing/]);

    const malformed = copyOf('malformed');
    writeFileSync(path.join(malformed, MANIFEST), 'not a checksum line\n');
    await expectRefused(malformed, [/manifest\.sha256: line 1 is not/]);
  });

  it('a bundle without a manifest (exported before it existed) is imported, with a warning', async () => {
    const old = copyOf('old');
    rmSync(path.join(old, MANIFEST));
    const r = await importBundles(store, old);
    expect(r.ids).toEqual([goodId]);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/old has no manifest\.sha256 .*not against checksums/);
  });
});

describe('history.json and run.json are validated like api input', () => {
  const historyCases: [string, (h: Record<string, unknown>) => void, RegExp][] = [
    ['escape-name', (h) => (h['name'] = 'evil\u001b[2J'), /a string with control characters at name/],
    ['line-break-name', (h) => (h['name'] = 'two\nlines'), /name: no control characters or line breaks/],
    ['long-name', (h) => (h['name'] = 'n'.repeat(201)), /name: Too big/i],
    ['long-notes', (h) => (h['notes'] = 'n'.repeat(100_001)), /notes: Too big/i],
    ['control-notes', (h) => (h['notes'] = 'a\u0007b'), /a string with control characters at notes/],
    ['js-colour', (h) => (h['colour'] = 'javascript:alert(1)'), /colour: a #rgb\/#rrggbb value or a colour name/],
    ['css-colour', (h) => (h['colour'] = 'red;background:url(x)'), /colour: a #rgb\/#rrggbb value/],
    ['bad-date', (h) => (h['createdAt'] = '2026-13-45T99:00:00Z'), /createdAt: Invalid ISO datetime/i],
    ['word-date', (h) => (h['finishedAt'] = 'yesterday'), /finishedAt: Invalid ISO datetime/i],
    ['status', (h) => (h['status'] = 'hacked'), /status: Invalid option/i],
    ['tag', (h) => (h['tags'] = ['a,b']), /tags\.0: a tag has no spaces or commas/],
    ['id', (h) => (h['id'] = '../../etc'), /id: a run id/],
    ['unknown-key', (h) => (h['admin'] = true), /Unrecognized key/i],
    ['missing', (h) => delete h['createdAt'], /createdAt: /],
    ['deep', (h) => (h['config'] = JSON.parse(`${'{"a":'.repeat(100)}1${'}'.repeat(100)}`) as unknown), /nested deeper than 64 levels/],
  ];

  for (const [name, edit, want] of historyCases) {
    it(`history.json: ${name}`, async () => {
      const d = edited(name, (b) => {
        const h = JSON.parse(readFileSync(path.join(b, 'history.json'), 'utf8')) as Record<string, unknown>;
        edit(h);
        writeFileSync(path.join(b, 'history.json'), JSON.stringify(h));
      });
      await expectRefused(d, [/history\.json: /, want]);
    });
  }

  it('history.json: a number that is not finite (1e999)', async () => {
    const d = edited('infinite', (b) => {
      const f = path.join(b, 'history.json');
      writeFileSync(f, readFileSync(f, 'utf8').replace('"timings": {', '"timings": {\n    "evil": 1e999,'));
    });
    await expectRefused(d, [/history\.json: a number that is not finite at timings\.evil/]);
  });

  it('run.json: a path or endpoint name that would leave the bundle, duplicate names, a wrong schema', async () => {
    type Doc = { schema: string; paths: { name: string; check: unknown; barrier: { train: unknown } }[]; endpoints: { name: string }[]; dataset: { inputShape: unknown } };
    const cases: [string, (r: Doc) => void, RegExp][] = [
      ['path-name', (r) => (r.paths[0]!.name = '../../outside'), /paths\.0\.name: a path name/],
      // What the history puts in its own columns is checked too: a path's verdict and barrier, the dataset's shape.
      ['check', (r) => (r.paths[0]!.check = { pass: 'yes' }), /paths\.0\.check\.pass: /],
      ['barrier', (r) => (r.paths[0]!.barrier.train = { lossOverInterpolation: { value: 'high' } }), /paths\.0\.barrier\.train\.lossOverInterpolation\.value: /],
      ['input-shape', (r) => (r.dataset.inputShape = [28, 28]), /dataset\.inputShape: /],
      ['endpoint-name', (r) => (r.endpoints[0]!.name = 'A/../B'), /endpoints\.0\.name: an endpoint name/],
      ['duplicate', (r) => (r.endpoints[1]!.name = 'A'), /the endpoint name A appears twice/],
      ['schema', (r) => (r.schema = 'other/1'), /schema: /],
    ];
    for (const [name, edit, want] of cases) {
      const d = edited(name, (b) => {
        const r = JSON.parse(readFileSync(path.join(b, 'run.json'), 'utf8')) as Parameters<typeof edit>[0];
        edit(r);
        writeFileSync(path.join(b, 'run.json'), JSON.stringify(r));
      });
      await expectRefused(d, [/run\.json: /, want]);
    }
  });
});

describe('tensors are checked at import', () => {
  const header = (h: unknown, data = Buffer.alloc(0)): Buffer => {
    const json = Buffer.from(JSON.stringify(h));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    return Buffer.concat([len, json, data]);
  };
  const cases: [string, string, () => Buffer, RegExp][] = [
    ['huge-header', 'endpoints.safetensors', () => Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 2]), /is not a safetensors file \(its header length/],
    ['array-header', 'endpoints.safetensors', () => header([1, 2]), /corrupt header \(not a JSON object\)/],
    ['no-shape', 'endpoints.safetensors', () => header({ 'A.A1.w': { dtype: 'F32', data_offsets: [0, 4] } }, Buffer.alloc(4)), /tensor A\.A1\.w has no valid shape/],
    ['bad-offsets', 'endpoints.safetensors', () => header({ 'A.A1.w': { dtype: 'F32', shape: [1], data_offsets: [8, 4] } }, Buffer.alloc(8)), /no valid data_offsets/],
    ['dtype', 'endpoints.safetensors', () => header({ 'A.A1.w': { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, Buffer.alloc(4)), /tensor A\.A1\.w is F16; ModeLab reads F32/],
    ['mismatch', 'endpoints.safetensors', () => header({ 'A.A1.w': { dtype: 'F32', shape: [3, 4], data_offsets: [0, 8] } }, Buffer.alloc(8)), /has 8 bytes for shape \[3, 4\] \(48 expected\)/],
    ['truncated', 'endpoints.safetensors', () => readFileSync(path.join(good, 'endpoints.safetensors')).subarray(0, -5), /runs past the end of the file/],
    ['metadata', 'endpoints.safetensors', () => header({ __metadata__: { a: 1 } }), /__metadata__ is not a map of strings/],
    [
      'missing-endpoint',
      'endpoints.safetensors',
      () => encodeSafetensors({ 'A.A1.w': { shape: [3, 4], data: new Float32Array(12) } }),
      /holds no weights for endpoint B/,
    ],
    [
      'other-layout',
      'endpoints.safetensors',
      () => encodeSafetensors({ 'A.A1.w': { shape: [3, 4], data: new Float32Array(12) }, 'B.A1.w': { shape: [4, 3], data: new Float32Array(12) } }),
      /endpoint B has A1\.w of shape \[4×3\], not \[3×4\]/,
    ],
    ['vertex-gap', 'paths/linear.safetensors', () => encodeSafetensors({ 'v0.A1.w': { shape: [1], data: new Float32Array(1) }, 'v2.A1.w': { shape: [1], data: new Float32Array(1) } }), /vertex 1 is missing/],
    [
      'no-test-labels',
      'eval-data.safetensors',
      () => encodeSafetensors({ 'train.x': { shape: [2, 1, 1, 3], data: new Float32Array(6) }, 'train.y': { shape: [2], data: new Float32Array(2) }, 'test.x': { shape: [1, 1, 1, 3], data: new Float32Array(3) } }),
      /lacks test\.y \(exports of the run need/,
    ],
    [
      'input-shape',
      'eval-data.safetensors',
      () => evalDataSafetensors([1, 3, 1], { train: split(2, 1), test: split(2, 2) }),
      /train\.x has inputs of shape \[1,3,1\], the run's dataset \[1,1,3\]/,
    ],
    [
      'labels',
      'eval-data.safetensors',
      () => evalDataSafetensors([1, 1, 3], { train: split(2, 1), test: { ...split(2, 2), y: Int32Array.of(0, -1) } }),
      /test\.y holds values that are not class indices/,
    ],
  ];
  for (const [name, file, bytes, want] of cases) {
    it(`${file}: ${name}`, async () => {
      const d = edited(name, (b) => writeFileSync(path.join(b, file), bytes()));
      await expectRefused(d, [want]);
    });
  }

  it("eval-data.safetensors: inputs shaped as run.json says but not as history.json's environment (what exports use)", async () => {
    const d = edited('env-shape', (b) => {
      const f = path.join(b, 'history.json');
      const h = JSON.parse(readFileSync(f, 'utf8')) as { environment: { dataset: { inputShape: number[] } } };
      expect(h.environment.dataset.inputShape).toEqual([1, 1, 3]);
      h.environment.dataset.inputShape = [3, 1, 1];
      writeFileSync(f, JSON.stringify(h));
    });
    await expectRefused(d, [/train\.x has inputs of shape \[1,1,3\], the run's dataset \[3,1,1\]/]);
  });

  it('history.json: a run with paths whose environment has no usable architecture (exports of its paths need it)', async () => {
    const cases: [string, (env: { architecture?: { spec: unknown } }) => void, RegExp][] = [
      ['no-architecture', (env) => delete env.architecture, /lacks the architecture or the dataset's input shape/],
      // The run document's own schema of the architecture names the field.
      ['bad-spec', (env) => (env.architecture = { spec: { input: [1, 1, 3] } }), /environment\.architecture\.spec\.layers: /],
    ];
    for (const [name, edit, want] of cases) {
      const d = edited(name, (b) => {
        const f = path.join(b, 'history.json');
        const h = JSON.parse(readFileSync(f, 'utf8')) as { environment: Parameters<typeof edit>[0] };
        edit(h.environment);
        writeFileSync(f, JSON.stringify(h));
      });
      await expectRefused(d, [/history\.json: /, want]);
    }
  });

  it('a zip of a bad bundle leaves no staging folder behind', async () => {
    const d = edited('zipped-bad', (b) => writeFileSync(path.join(b, 'endpoints.safetensors'), Buffer.alloc(3)));
    const entries = (readdirSync(d, { recursive: true }) as string[])
      .filter((f) => f !== 'paths')
      .map((f) => ({ name: f.split(path.sep).join('/'), data: readFileSync(path.join(d, f)) }));
    await expectRefused(await zipOf('bad.zip', entries), [/endpoints\.safetensors is truncated/]);
  });
});

describe('a run already in the history', () => {
  it('is refused (one line, code RUN_EXISTS), skipped, or imported as a copy', async () => {
    expect((await importBundles(store, good)).ids).toEqual([goodId]);
    const err = await importBundles(store, good).catch((e: unknown) => e as RunExistsError);
    expect(err).toBeInstanceOf(RunExistsError);
    expect((err as RunExistsError).code).toBe('RUN_EXISTS');
    expect((err as Error).message).toBe(`run ${goodId} ('source') is already in the history; skip it or import a copy (modelab import --skip-existing or --as-copy)`);
    await expectRefused(good, [/already in the history/]);

    expect(await importBundles(store, good, { existing: 'skip' })).toEqual({ ids: [], skipped: [goodId], warnings: [] });
    expect((await store.list()).total).toBe(1);

    const { ids } = await importBundles(store, good, { existing: 'copy' });
    expect(ids).toHaveLength(1);
    expect(ids[0]).not.toBe(goodId);
    const [a, b] = [await store.get(goodId), await store.get(ids[0]!)];
    expect(b.name).toBe('source (copy)');
    expect({ ...b, id: a.id, name: a.name }).toEqual(a);
  });

  it('in a zip of two runs: nothing is imported unless the choice is made; skip imports the other', async () => {
    const other = await syntheticRun(store, { name: 'other', seeds: [5, 6] });
    await exportBundles(store, [other], path.join(dir, 'other'));
    await store.delete([other]);
    const zip = await zipOf('both.zip', [
      ...bundleEntries(`${goodId}/`),
      ...(readdirSync(path.join(dir, 'other'), { recursive: true }) as string[])
        .filter((f) => f !== 'paths')
        .map((f) => ({ name: `${other}/${f.split(path.sep).join('/')}`, data: readFileSync(path.join(dir, 'other', f)) })),
    ]);
    await importBundles(store, good);
    await expectRefused(zip, [new RegExp(`run ${goodId} \\('source'\\) is already in the history`)]);
    expect(await importBundles(store, zip, { existing: 'skip' })).toEqual({ ids: [other], skipped: [goodId], warnings: [] });
  });
});

describe('staging', () => {
  it('a zip that fails half-way through unpacking leaves nothing in the artifact folder', async () => {
    mkdirSync(store.artifacts.dir, { recursive: true });
    const zip = await zipOf('half.zip', [...bundleEntries(), { name: 'z-last', data: Buffer.alloc(10) }, { name: 'z-last/child', data: Buffer.alloc(1) }]);
    await expectRefused(zip, [/'z-last\/child' needs 'z-last' to be a folder/]);
    expect(readdirSync(store.artifacts.dir).filter((f) => f.startsWith('.import-'))).toEqual([]);
  });
});
