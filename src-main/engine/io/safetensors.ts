/**
 * The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length, a JSON
 * header mapping each tensor name to {dtype, shape, data_offsets}, then the raw little-endian data. Readable by
 * numpy/PyTorch (`safetensors.numpy.load_file`) without ModeLab. Data is written in the machine's byte order, which
 * is little-endian on every platform Node and Electron run on.
 */
import { readFileSync } from 'node:fs';
import type { HostTensor } from '../nn/params';
import { InputError } from '../util/errors';

/** `int64Scalars`: int64 tensors of shape [] (PyTorch's BatchNorm num_batches_tracked), after the float32 ones. */
export function encodeSafetensors(tensors: Record<string, HostTensor>, metadata: Record<string, string> = {}, int64Scalars: Record<string, bigint> = {}): Buffer {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header['__metadata__'] = metadata;
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = t.data.length * 4;
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  for (const name of Object.keys(int64Scalars)) {
    header[name] = { dtype: 'I64', shape: [], data_offsets: [offset, offset + 8] };
    offset += 8;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const hlen = Buffer.byteLength(json);
  const out = Buffer.alloc(8 + hlen + offset);
  out.writeBigUInt64LE(BigInt(hlen), 0);
  out.write(json, 8, 'utf8');
  let pos = 8 + hlen;
  for (const t of Object.values(tensors)) {
    Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).copy(out, pos);
    pos += t.data.byteLength;
  }
  for (const v of Object.values(int64Scalars)) {
    out.writeBigInt64LE(v, pos);
    pos += 8;
  }
  return out;
}

/** The largest header ModeLab reads (the safetensors library's own limit). */
const MAX_HEADER_BYTES = 100_000_000;

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Bytes per element of each safetensors dtype (only F32 is read as numbers; the others are named in errors). */
const DTYPE_BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** One tensor of a safetensors file, in header order; `data` only for F32 tensors. */
export interface SafetensorsEntry {
  name: string;
  dtype: string;
  shape: number[];
  data: Float32Array | null;
}

/**
 * Reads safetensors bytes, every tensor of any known dtype (F32 ones with their data). Every header field is checked
 * before use (untrusted files: bundles, checkpoints, imported networks): a bad header, an unknown dtype, a shape that
 * does not match its bytes or data past the end is an InputError naming `what`.
 */
export function safetensorsEntries(buf: Uint8Array, what = 'safetensors data'): { entries: SafetensorsEntry[]; metadata: Record<string, string> } {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 8) throw new InputError(`${what} is truncated`);
  const hlen64 = b.readBigUInt64LE(0);
  if (hlen64 > BigInt(Math.min(MAX_HEADER_BYTES, b.length - 8))) {
    throw new InputError(`${what} is not a safetensors file (its header length ${hlen64} is past the end of the file)`);
  }
  const hlen = Number(hlen64);
  let header: unknown;
  try {
    header = JSON.parse(b.toString('utf8', 8, 8 + hlen));
  } catch {
    throw new InputError(`${what} has a corrupt header`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw new InputError(`${what} has a corrupt header (not a JSON object)`);
  const base = 8 + hlen;
  const entries: SafetensorsEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, h] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (!h || typeof h !== 'object' || Array.isArray(h) || !Object.values(h).every((v) => typeof v === 'string')) {
        throw new InputError(`${what}: __metadata__ is not a map of strings`);
      }
      metadata = h as Record<string, string>;
      continue;
    }
    const t = h as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (!t || typeof t !== 'object') throw new InputError(`${what}: tensor ${name} has no dtype, shape and data_offsets`);
    const bytes = typeof t.dtype === 'string' ? DTYPE_BYTES[t.dtype] : undefined;
    if (bytes === undefined) throw new InputError(`${what}: tensor ${name} has the unknown dtype ${String(t.dtype)}`);
    if (!Array.isArray(t.shape) || !t.shape.every(isCount)) throw new InputError(`${what}: tensor ${name} has no valid shape`);
    const off = t.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !isCount(off[0]) || !isCount(off[1]) || off[1] < off[0]) {
      throw new InputError(`${what}: tensor ${name} has no valid data_offsets`);
    }
    const shape = t.shape as number[];
    const [s, e] = off as [number, number];
    if (base + e > b.length) throw new InputError(`${what}: tensor ${name} runs past the end of the file (truncated?)`);
    const size = shape.reduce((x, y) => x * y, 1);
    if (size * bytes !== e - s) throw new InputError(`${what}: tensor ${name} has ${e - s} bytes for shape [${shape.join(', ')}] (${size * bytes} expected)`);
    let data: Float32Array | null = null;
    if (t.dtype === 'F32') {
      data = new Float32Array(size);
      new Uint8Array(data.buffer).set(b.subarray(base + s, base + e));
    }
    entries.push({ name, dtype: t.dtype as string, shape, data });
  }
  return { entries, metadata };
}

/** Reads safetensors bytes of F32 tensors only (ModeLab's own files); any other dtype is an InputError naming `what`. */
export function decodeSafetensors(buf: Uint8Array, what = 'safetensors data'): { tensors: Record<string, HostTensor>; metadata: Record<string, string> } {
  const { entries, metadata } = safetensorsEntries(buf, what);
  const tensors: Record<string, HostTensor> = {};
  for (const e of entries) {
    if (!e.data) throw new InputError(`${what}: tensor ${e.name} is ${e.dtype}; ModeLab reads F32`);
    tensors[e.name] = { shape: e.shape, data: e.data };
  }
  return { tensors, metadata };
}

export function readSafetensors(file: string): { tensors: Record<string, HostTensor>; metadata: Record<string, string> } {
  return decodeSafetensors(readFileSync(file), file);
}
