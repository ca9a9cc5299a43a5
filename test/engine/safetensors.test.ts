/**
 * safetensors (io/safetensors.ts): exact round trips, the on-disk layout checked by reading the bytes by hand
 * (u64 LE header length, JSON header padded to 8 bytes, contiguous data offsets, little-endian F32), and InputErrors
 * for damaged data.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HostTensor } from '../../src-main/engine/nn/params';
import { decodeSafetensors, encodeSafetensors, readSafetensors } from '../../src-main/engine/io/safetensors';
import { InputError } from '../../src-main/engine/util/errors';

const tensors = (): Record<string, HostTensor> => ({
  'A.A1.w': { shape: [3, 2], data: Float32Array.from([1, -2, 0.5, Math.PI, -0, 1e-40]) },
  'A.A1.b': { shape: [2], data: Float32Array.from([Infinity, -Infinity]) },
  'A.A2.w': { shape: [2, 2, 1, 3], data: Float32Array.from({ length: 12 }, (_, i) => (i - 6) / 7) },
  'B.A1.w': { shape: [1], data: Float32Array.from([NaN]) },
});

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Reads the layout by hand, without the module under test. */
function layout(buf: Buffer): { hlen: number; header: Record<string, HeaderEntry | Record<string, string>>; raw: string } {
  const hlen = Number(buf.readBigUInt64LE(0));
  const raw = buf.toString('utf8', 8, 8 + hlen);
  return { hlen, header: JSON.parse(raw) as Record<string, HeaderEntry>, raw };
}

const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('safetensors', () => {
  it('encode → decode is exact to the bit (NaN, ±Infinity, −0, a float32 denormal), metadata included', () => {
    const t = tensors();
    const meta = { format: 'modelab', layout: 'dense [in,out]; conv [kh,kw,in,out]' };
    const out = decodeSafetensors(encodeSafetensors(t, meta));
    expect(Object.keys(out.tensors)).toEqual(Object.keys(t));
    for (const [k, v] of Object.entries(t)) {
      expect(out.tensors[k]!.shape).toEqual(v.shape);
      expect(bits(out.tensors[k]!.data)).toEqual(bits(v.data));
    }
    expect(out.metadata).toEqual(meta);
  });

  it('the header is 8-byte aligned, offsets are contiguous from 0, and data is little-endian F32 at those offsets', () => {
    const t = tensors();
    const metas: Record<string, string>[] = [{}, { a: 'x' }, { a: 'xy' }, { note: 'é' }];
    for (const meta of metas) {
      const buf = encodeSafetensors(t, meta);
      const { hlen, header, raw } = layout(buf);
      expect((8 + hlen) % 8).toBe(0);
      expect(raw).toMatch(/^\{.*\} *$/s); // JSON, then space padding only
      if (Object.keys(meta).length) expect(header['__metadata__']).toEqual(meta);
      else expect(header['__metadata__']).toBeUndefined();
      const entries = Object.entries(header).filter(([k]) => k !== '__metadata__') as [string, HeaderEntry][];
      const sorted = entries.map(([, e]) => e.data_offsets).sort((a, b) => a[0] - b[0]);
      expect(sorted[0]![0]).toBe(0);
      for (let i = 1; i < sorted.length; i++) expect(sorted[i]![0]).toBe(sorted[i - 1]![1]);
      expect(8 + hlen + sorted.at(-1)![1]).toBe(buf.length);
      for (const [name, e] of entries) {
        expect(e.dtype).toBe('F32');
        const v = t[name]!;
        expect(e.shape).toEqual(v.shape);
        expect(e.data_offsets[1] - e.data_offsets[0]).toBe(4 * v.data.length);
        const base = 8 + hlen + e.data_offsets[0];
        for (let i = 0; i < v.data.length; i++) {
          const got = buf.readFloatLE(base + 4 * i);
          if (Number.isNaN(v.data[i]!)) expect(Number.isNaN(got)).toBe(true);
          else expect(Object.is(got, v.data[i]!)).toBe(true);
        }
      }
    }
  });

  it('tensors that are views into a larger buffer are written from their own bytes', () => {
    const big = Float32Array.from({ length: 10 }, (_, i) => i);
    const view = big.subarray(3, 7);
    const out = decodeSafetensors(encodeSafetensors({ v: { shape: [2, 2], data: view } }));
    expect(Array.from(out.tensors['v']!.data)).toEqual([3, 4, 5, 6]);
  });

  it('an empty tensor set round-trips', () => {
    const out = decodeSafetensors(encodeSafetensors({}));
    expect(out.tensors).toEqual({});
  });

  it('a truncated buffer is an InputError, wherever it is cut', () => {
    const buf = encodeSafetensors(tensors());
    const { hlen } = layout(buf);
    for (const cut of [0, 5, 8, 8 + Math.floor(hlen / 2), 8 + hlen + 3, buf.length - 1]) {
      const f = (): unknown => decodeSafetensors(buf.subarray(0, cut), 'weights.safetensors');
      expect(f, `cut at ${cut}`).toThrow(InputError);
      expect(f).toThrow(/weights\.safetensors/);
    }
  });

  it('a corrupt header, a wrong dtype and a size mismatch are InputErrors naming the tensor', () => {
    const buf = Buffer.from(encodeSafetensors(tensors()));
    const { hlen } = layout(buf);
    const broken = Buffer.from(buf);
    broken.write('#', 8);
    expect(() => decodeSafetensors(broken)).toThrow(InputError);
    expect(() => decodeSafetensors(broken)).toThrow(/corrupt header/);

    const withHeader = (h: object, data: Buffer): Buffer => {
      let json = JSON.stringify(h);
      json += ' '.repeat((8 - (json.length % 8)) % 8);
      const head = Buffer.alloc(8);
      head.writeBigUInt64LE(BigInt(json.length));
      return Buffer.concat([head, Buffer.from(json), data]);
    };
    const f16 = withHeader({ x: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, Buffer.alloc(4));
    expect(() => decodeSafetensors(f16)).toThrow(/tensor x is F16/);
    const mismatch = withHeader({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, Buffer.alloc(8));
    expect(() => decodeSafetensors(mismatch)).toThrow(InputError);
    expect(() => decodeSafetensors(mismatch)).toThrow(/tensor x/);
    expect(hlen).toBeGreaterThan(0);
  });

  it('readSafetensors reads a file and names it in errors', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'modelab-st-'));
    try {
      const good = path.join(dir, 'w.safetensors');
      writeFileSync(good, encodeSafetensors(tensors()));
      expect(Object.keys(readSafetensors(good).tensors)).toEqual(Object.keys(tensors()));
      const bad = path.join(dir, 'cut.safetensors');
      writeFileSync(bad, encodeSafetensors(tensors()).subarray(0, 20));
      expect(() => readSafetensors(bad)).toThrow(InputError);
      expect(() => readSafetensors(bad)).toThrow(new RegExp(bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
