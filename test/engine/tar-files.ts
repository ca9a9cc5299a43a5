/** Writes tar archives from TypeScript, independently of the reader (data/tar.ts): for fixtures made in tests. */
import { gzipSync } from 'node:zlib';

export interface TarInput {
  name: string;
  /** '0' file (default), '5' folder, '1' hard link, '2' symbolic link. */
  type?: '0' | '5' | '1' | '2';
  data?: Uint8Array;
  linkname?: string;
}

function field(h: Buffer, at: number, len: number, s: string): void {
  h.write(s, at, len, 'utf8');
}

/** A POSIX ustar archive of `entries`, gzip-compressed unless `gzip` is false. */
export function tarBytes(entries: TarInput[], gzip = true): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = e.data ?? new Uint8Array(0);
    const h = Buffer.alloc(512);
    // A name over 100 bytes goes into ustar's prefix field (up to 155 bytes) and name field, split at a '/'.
    const cut = e.name.length > 100 ? e.name.lastIndexOf('/', 155) : -1;
    field(h, 0, 100, cut >= 0 ? e.name.slice(cut + 1) : e.name);
    if (cut >= 0) field(h, 345, 155, e.name.slice(0, cut));
    field(h, 100, 8, '0000644\0');
    field(h, 108, 8, '0000000\0');
    field(h, 116, 8, '0000000\0');
    field(h, 124, 12, `${data.length.toString(8).padStart(11, '0')}\0`);
    field(h, 136, 12, '00000000000\0');
    h.write(e.type ?? '0', 156, 1, 'latin1');
    if (e.linkname) field(h, 157, 100, e.linkname);
    field(h, 257, 6, 'ustar\0');
    field(h, 263, 2, '00');
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    field(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
    blocks.push(h, Buffer.from(data), Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  const tar = Buffer.concat(blocks);
  return gzip ? gzipSync(tar) : tar;
}

/**
 * A CIFAR-10 batch of `labels.length` records in the binary format: a label byte, then 1,024 red, 1,024 green and
 * 1,024 blue bytes. Pixel (record r, channel c, position p) holds (r·7 + c·50 + p) mod 256.
 */
export function cifarBatch(labels: number[]): Buffer {
  const b = Buffer.alloc(labels.length * 3073);
  labels.forEach((l, r) => {
    b[r * 3073] = l;
    for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) b[r * 3073 + 1 + c * 1024 + p] = (r * 7 + c * 50 + p) % 256;
  });
  return b;
}

/** A small archive in the layout of cifar-10-binary.tar.gz: 2 records per training batch, 3 in the test batch. */
export function fakeCifarArchive(): Buffer {
  const dir = 'cifar-10-batches-bin';
  const entries: TarInput[] = [{ name: `${dir}/`, type: '5' }];
  for (let i = 1; i <= 5; i++) entries.push({ name: `${dir}/data_batch_${i}.bin`, data: cifarBatch([(2 * i) % 10, (2 * i + 1) % 10]) });
  entries.push({ name: `${dir}/test_batch.bin`, data: cifarBatch([3, 1, 4]) });
  entries.push({ name: `${dir}/batches.meta.txt`, data: Buffer.from('airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n') });
  return tarBytes(entries);
}
