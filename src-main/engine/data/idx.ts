/**
 * IDX files (the MNIST format, http://yann.lecun.com/exdb/mnist/): two zero bytes, a type code, the number of
 * dimensions, the dimensions as big-endian uint32, then the data. gzip-compressed files are accepted.
 */
import { readFileSync, existsSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { InputError } from '../util/errors';

const TYPES: Record<number, { name: string; bytes: number }> = {
  0x08: { name: 'ubyte', bytes: 1 },
  0x09: { name: 'byte', bytes: 1 },
  0x0b: { name: 'short', bytes: 2 },
  0x0c: { name: 'int', bytes: 4 },
  0x0d: { name: 'float', bytes: 4 },
  0x0e: { name: 'double', bytes: 8 },
};

export interface IdxArray {
  dims: number[];
  type: string;
  /** Raw unsigned bytes for ubyte files (the images and labels of MNIST). */
  data: Uint8Array;
}

/** Parses an IDX buffer. `what` names the file in errors; `expectDims` (e.g. 3 for images) is checked. */
export function parseIdx(buf: Uint8Array, what: string, expectDims?: number): IdxArray {
  if (buf.length < 4) throw new InputError(`${what} is truncated: ${buf.length} bytes, not even an IDX header (expected at least 4)`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const typeCode = buf[2]!;
  const ndim = buf[3]!;
  const type = TYPES[typeCode];
  if (buf[0] !== 0 || buf[1] !== 0 || !type || ndim === 0) {
    const magic = view.getUint32(0).toString(16).padStart(8, '0');
    const expected = expectDims ? `0x000008${expectDims.toString(16).padStart(2, '0')}` : '0x000008NN';
    throw new InputError(`${what} is not an IDX file: magic number 0x${magic}, expected ${expected}`);
  }
  if (expectDims !== undefined && ndim !== expectDims) {
    throw new InputError(`${what} has ${ndim} dimensions (magic 0x0000${typeCode.toString(16).padStart(2, '0')}${ndim.toString(16).padStart(2, '0')}), expected ${expectDims}`);
  }
  const header = 4 + 4 * ndim;
  if (buf.length < header) {
    throw new InputError(`${what} is truncated inside its header: ${buf.length} bytes, expected at least ${header} (4 + 4 per dimension for ${ndim} dimensions)`);
  }
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i));
  const expected = dims.reduce((a, b) => a * b, 1) * type.bytes;
  const found = buf.length - header;
  if (found < expected) {
    throw new InputError(`${what} is truncated: its header says ${dims.join('×')} ${type.name} values (${expected} bytes), found ${found} bytes`);
  }
  if (type.name !== 'ubyte') throw new InputError(`${what} holds ${type.name} values; ModeLab reads ubyte IDX files`);
  return { dims, type: type.name, data: buf.subarray(header, header + expected) };
}

/** Reads and parses an IDX file from disk. */
export function readIdx(file: string, expectDims?: number, role = 'IDX file'): IdxArray {
  if (!existsSync(file)) throw new InputError(`${role} not found: ${file}`);
  let buf: Uint8Array = readFileSync(file);
  if (buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf);
    } catch (e) {
      throw new InputError(`${file} looks gzip-compressed but cannot be decompressed: ${(e as Error).message}`);
    }
  }
  return parseIdx(buf, file, expectDims);
}

/** Reads an image file (3 dims: n×h×w) and its label file (1 dim: n), checking they agree. */
export function readIdxPair(imagesFile: string, labelsFile: string): { images: IdxArray; labels: IdxArray } {
  const images = readIdx(imagesFile, 3, 'image file');
  const labels = readIdx(labelsFile, 1, 'label file');
  if (images.dims[0] !== labels.dims[0]) {
    throw new InputError(`${imagesFile} has ${images.dims[0]} images but ${labelsFile} has ${labels.dims[0]} labels`);
  }
  return { images, labels };
}
