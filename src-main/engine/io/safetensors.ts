/**
 * The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length, a JSON
 * header mapping each tensor name to {dtype, shape, data_offsets}, then the raw little-endian data. Readable by
 * numpy/PyTorch (`safetensors.numpy.load_file`) without ModeLab. Data is written in the machine's byte order, which
 * is little-endian on every platform Node and Electron run on.
 */
import { readFileSync } from 'node:fs';
import type { HostTensor } from '../nn/params';
import { InputError } from '../util/errors';

export function encodeSafetensors(tensors: Record<string, HostTensor>, metadata: Record<string, string> = {}): Buffer {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header['__metadata__'] = metadata;
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = t.data.length * 4;
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
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
  return out;
}

/** The largest header ModeLab reads (the safetensors library's own limit). */
const MAX_HEADER_BYTES = 100_000_000;

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Reads safetensors bytes. Every header field is checked before use (untrusted files: bundles, checkpoints): a bad
 * header, an unknown dtype, a shape that does not match its bytes or data past the end is an InputError naming `what`.
 */
export function decodeSafetensors(buf: Uint8Array, what = 'safetensors data'): { tensors: Record<string, HostTensor>; metadata: Record<string, string> } {
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
  const tensors: Record<string, HostTensor> = {};
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
    if (t.dtype !== 'F32') throw new InputError(`${what}: tensor ${name} is ${String(t.dtype)}; ModeLab reads F32`);
    if (!Array.isArray(t.shape) || !t.shape.every(isCount)) throw new InputError(`${what}: tensor ${name} has no valid shape`);
    const off = t.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !isCount(off[0]) || !isCount(off[1]) || off[1] < off[0]) {
      throw new InputError(`${what}: tensor ${name} has no valid data_offsets`);
    }
    const shape = t.shape as number[];
    const [s, e] = off as [number, number];
    if (base + e > b.length) throw new InputError(`${what}: tensor ${name} runs past the end of the file (truncated?)`);
    const size = shape.reduce((x, y) => x * y, 1);
    if (size * 4 !== e - s) throw new InputError(`${what}: tensor ${name} has ${e - s} bytes for shape [${shape.join(', ')}] (${size * 4} expected)`);
    const data = new Float32Array(size);
    new Uint8Array(data.buffer).set(b.subarray(base + s, base + e));
    tensors[name] = { shape, data };
  }
  return { tensors, metadata };
}

export function readSafetensors(file: string): { tensors: Record<string, HostTensor>; metadata: Record<string, string> } {
  return decodeSafetensors(readFileSync(file), file);
}
