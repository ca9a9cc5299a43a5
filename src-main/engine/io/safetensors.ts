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

export function decodeSafetensors(buf: Uint8Array, what = 'safetensors data'): { tensors: Record<string, HostTensor>; metadata: Record<string, string> } {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 8) throw new InputError(`${what} is truncated`);
  const hlen = Number(b.readBigUInt64LE(0));
  if (8 + hlen > b.length) throw new InputError(`${what} is truncated inside its header`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(b.toString('utf8', 8, 8 + hlen));
  } catch {
    throw new InputError(`${what} has a corrupt header`);
  }
  const base = 8 + hlen;
  const tensors: Record<string, HostTensor> = {};
  let metadata: Record<string, string> = {};
  for (const [name, h] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = h as unknown as Record<string, string>;
      continue;
    }
    if (h.dtype !== 'F32') throw new InputError(`${what}: tensor ${name} is ${h.dtype}; ModeLab reads F32`);
    const [s, e] = h.data_offsets;
    if (base + e > b.length) throw new InputError(`${what}: tensor ${name} runs past the end of the file`);
    const data = new Float32Array(h.shape.reduce((x, y) => x * y, 1));
    if ((e - s) !== data.byteLength) throw new InputError(`${what}: tensor ${name} has ${e - s} bytes for shape [${h.shape}]`);
    new Uint8Array(data.buffer).set(b.subarray(base + s, base + e));
    tensors[name] = { shape: h.shape, data };
  }
  return { tensors, metadata };
}

export function readSafetensors(file: string): { tensors: Record<string, HostTensor>; metadata: Record<string, string> } {
  return decodeSafetensors(readFileSync(file), file);
}
