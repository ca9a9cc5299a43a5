/** The tar reader (data/tar.ts): files and folders read back; links, escaping names and corrupt archives refused. */
import { describe, expect, it } from 'vitest';
import { readTar } from '../../src-main/engine/data/tar';
import { refusal } from './refusal';
import { tarBytes } from './tar-files';

const refused = (bytes: Buffer): string => refusal(() => readTar(bytes, 'a.tar.gz'));

describe('readTar', () => {
  it('reads files and folders, gzip-compressed or not, with their bytes', () => {
    const big = Buffer.alloc(1300, 7);
    for (const gz of [true, false]) {
      const entries = readTar(tarBytes([{ name: 'd/', type: '5' }, { name: 'd/a.bin', data: big }, { name: 'd/./e/b.txt', data: Buffer.from('hi') }], gz), 'x');
      expect(entries.map((e) => [e.name, e.type, e.data.length])).toEqual([
        ['d', 'dir', 0],
        ['d/a.bin', 'file', 1300],
        ['d/e/b.txt', 'file', 2],
      ]);
      expect(Buffer.from(entries[1]!.data).equals(big)).toBe(true);
    }
  });

  it("joins a ustar header's prefix and name fields (names over 100 bytes)", () => {
    const long = `${'d'.repeat(90)}/${'e'.repeat(40)}/file-${'f'.repeat(80)}.bin`;
    expect(readTar(tarBytes([{ name: long, data: Buffer.from('x') }]), 'x').map((e) => e.name)).toEqual([long]);
  });

  it('refuses absolute names, names with .., links and other entry types', () => {
    expect(refused(tarBytes([{ name: '/etc/passwd', data: Buffer.from('x') }]))).toMatch(/a\.tar\.gz: refused the entry "\/etc\/passwd" \(an absolute or unusual name\)/);
    expect(refused(tarBytes([{ name: 'd/../../x', data: Buffer.from('x') }]))).toMatch(/refused the entry "d\/\.\.\/\.\.\/x" \(a name that leaves the folder\)/);
    expect(refused(tarBytes([{ name: 'd/link', type: '2', linkname: '/etc' }]))).toMatch(/refused "d\/link", a symbolic link/);
    expect(refused(tarBytes([{ name: 'd/hard', type: '1', linkname: 'd/a' }]))).toMatch(/refused "d\/hard", a hard link/);
  });

  it('refuses a corrupt header, a truncated entry and bytes that are not gzip', () => {
    const tar = tarBytes([{ name: 'a.bin', data: Buffer.alloc(600, 1) }], false);
    const bad = Buffer.from(tar);
    bad[10] = bad[10]! ^ 0xff;
    expect(refused(bad)).toMatch(/a header's checksum does not match, at byte 0/);
    expect(refused(tar.subarray(0, 700))).toMatch(/truncated \(an entry of 600 bytes runs past the end\)/);
    expect(refused(Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(30, 1)]))).toMatch(/a\.tar\.gz: cannot be decompressed/);
  });
});
