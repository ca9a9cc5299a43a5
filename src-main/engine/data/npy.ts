/**
 * NumPy .npy files (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html): the magic "\x93NUMPY",
 * a major and minor version byte, the header's length (uint16 LE in version 1, uint32 LE in versions 2 and 3), then
 * a Python dict literal {'descr': …, 'fortran_order': …, 'shape': (…)} padded with spaces, then the array in C order.
 * Read here: little-endian float32 ('<f4'), int32 ('<i4'), int64 ('<i8') and uint8 ('|u1'), C order only.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { InputError } from '../util/errors';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** The element types read, by their numpy `descr`. */
export const NPY_DTYPES = { '<f4': 'float32', '|u1': 'uint8', '<i4': 'int32', '<i8': 'int64' } as const;
export type NpyDtype = (typeof NPY_DTYPES)[keyof typeof NPY_DTYPES];
const ITEM_BYTES: Record<NpyDtype, number> = { float32: 4, uint8: 1, int32: 4, int64: 8 };

export interface NpyHeader {
  dtype: NpyDtype;
  shape: number[];
  /** Where the data starts in the file. */
  dataOffset: number;
  /** Bytes of data the shape and dtype call for. */
  dataBytes: number;
}

export type NpyData = Float32Array | Uint8Array | Int32Array | BigInt64Array;

/** Parses the header at the start of `buf` (which may be only the file's first bytes). `what` names the file. */
export function parseNpyHeader(buf: Uint8Array, what: string): NpyHeader {
  if (buf.length < 10 || MAGIC.some((b, i) => buf[i] !== b)) throw new InputError(`${what} is not a .npy file (it does not start with \\x93NUMPY)`);
  const major = buf[6]!;
  if (major < 1 || major > 3) throw new InputError(`${what}: .npy format version ${major}.${buf[7]} is not supported (1, 2 and 3 are)`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (buf.length < 8 + lenBytes) throw new InputError(`${what} is truncated inside its header`);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes;
  if (buf.length < start + headerLen) throw new InputError(`${what} is truncated inside its header (${headerLen} header bytes announced)`);
  // Versions 1 and 2 write latin-1, version 3 utf-8; the keys and values read here are ASCII either way.
  const text = Buffer.from(buf.subarray(start, start + headerLen)).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new InputError(`${what}: its .npy header is not a dict with descr, fortran_order and shape: ${JSON.stringify(text.trim().slice(0, 120))}`);
  }
  const dtype = (NPY_DTYPES as Record<string, NpyDtype>)[descr];
  if (!dtype) throw new InputError(`${what} holds '${descr}' values; ModeLab reads ${Object.keys(NPY_DTYPES).map((d) => `'${d}'`).join(', ')} (float32, uint8, int32, int64, little-endian)`);
  if (fortran !== 'False') throw new InputError(`${what} is stored in Fortran order; save it in C order (numpy.ascontiguousarray)`);
  const parts = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.some((s) => !/^\d+$/.test(s))) throw new InputError(`${what}: its shape (${shapeText.trim()}) is not a tuple of whole numbers`);
  const shape = parts.map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count * ITEM_BYTES[dtype])) throw new InputError(`${what}: its shape (${shape.join(', ')}) is too large`);
  return { dtype, shape, dataOffset: start + headerLen, dataBytes: count * ITEM_BYTES[dtype] };
}

function notFound(file: string, role: string): InputError {
  return new InputError(`${role} not found: ${file}`);
}

/** The header of a .npy file, reading only its first bytes (what the resource estimate needs). */
export function readNpyHeader(file: string, role = '.npy file'): NpyHeader {
  if (!existsSync(file)) throw notFound(file, role);
  const fd = openSync(file, 'r');
  try {
    const first = Buffer.alloc(12);
    const got = readSync(fd, first, 0, 12, 0);
    const head = parseNpyHeaderLength(first.subarray(0, got), file);
    const buf = Buffer.alloc(head);
    return parseNpyHeader(buf.subarray(0, readSync(fd, buf, 0, head, 0)), file);
  } finally {
    closeSync(fd);
  }
}

/** Bytes from the file's start to the end of its header, from the first 12 bytes (checked in full by parseNpyHeader). */
function parseNpyHeaderLength(first: Uint8Array, file: string): number {
  if (first.length < 10 || MAGIC.some((b, i) => first[i] !== b)) return first.length; // parseNpyHeader says why
  const major = first[6]!;
  const view = new DataView(first.buffer, first.byteOffset, first.byteLength);
  if (major === 1) return 10 + view.getUint16(8, true);
  if ((major === 2 || major === 3) && first.length >= 12) return 12 + view.getUint32(8, true);
  return parseNpyHeader(first, file).dataOffset; // throws: unsupported version or truncated
}

/** A whole .npy file: its header and its data, copied into a typed array of its dtype. */
export function readNpy(file: string, role = '.npy file'): { header: NpyHeader; data: NpyData; bytes: Buffer } {
  if (!existsSync(file)) throw notFound(file, role);
  const bytes = readFileSync(file);
  const header = parseNpyHeader(bytes, file);
  const found = bytes.length - header.dataOffset;
  if (found !== header.dataBytes) {
    throw new InputError(
      `${file} holds ${found} data bytes; its header says ${header.shape.join('×')} ${header.dtype} values (${header.dataBytes} bytes)${found < header.dataBytes ? ': truncated' : ''}`,
    );
  }
  // A view of the file's bytes when the data is aligned to its element size (numpy aligns it to 64), else a copy.
  // The dtypes read are little-endian, as are the typed arrays on every platform Node supports.
  const start = bytes.byteOffset + header.dataOffset;
  const item = ITEM_BYTES[header.dtype];
  const ab = start % item === 0 ? bytes.buffer : bytes.buffer.slice(start, start + header.dataBytes);
  const at = start % item === 0 ? start : 0;
  const n = header.dataBytes / item;
  const data =
    header.dtype === 'float32' ? new Float32Array(ab, at, n) : header.dtype === 'uint8' ? new Uint8Array(ab, at, n) : header.dtype === 'int32' ? new Int32Array(ab, at, n) : new BigInt64Array(ab, at, n);
  return { header, data, bytes };
}
