/**
 * One server takes every message and upload that used to end the process — a 10,000-deep nested recipe, a message
 * over the size limit, an unmasked frame, an unparsable request target, a zip with a symlink entry — answers each
 * with an error (or closes that one socket), and then still runs a job to completion.
 */
import { existsSync, readdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZipFile } from 'yazl';
import type { ModeLabApi } from '../../src-main/api/contract';
import { createApi } from '../../src-main/api/handlers';
import { type RunningServer, startServer } from '../../src-main/server/server';
import { MAX_JSON_DEPTH, MAX_MESSAGE_BYTES, nestsDeeperThan } from '../../src-main/api/message-limits';
import { HistoryStore } from '../../src-main/store/history';
import { tinyRecipe } from '../jobs/recipes';
import { tempDir } from '../store/helpers';
import { Rpc, bearer, http, wsOpen } from './helpers';

const STATIC = path.resolve(import.meta.dirname, '../../out/renderer');

let t: ReturnType<typeof tempDir>;
let store: HistoryStore;
let api: ModeLabApi;
let server: RunningServer;

beforeAll(async () => {
  t = tempDir('modelab-hostile-');
  store = await HistoryStore.open({ db: path.join(t.dir, 'history.sqlite') });
  api = createApi({ store, runnerOptions: { heartbeatMs: 250 } });
  server = await startServer({ api, store, staticDir: STATIC, port: 0, eventIntervalMs: 50 });
});
afterAll(async () => {
  await server?.close();
  await api.close();
  t.cleanup();
});

/** A raw TCP connection to the server: what it sends back, and when it closes. */
function rawSocket(): Promise<{ socket: net.Socket; received: () => Buffer; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.once('error', reject);
    socket.once('connect', () => resolve({ socket, received: () => Buffer.concat(chunks), closed }));
  });
}

/** The frames a server sent (never masked): opcode and payload of each. */
function serverFrames(bytes: Buffer): { opcode: number; payload: Buffer }[] {
  const frames: { opcode: number; payload: Buffer }[] = [];
  for (let at = 0; at < bytes.length; ) {
    let len = bytes[at + 1]! & 0x7f;
    let start = at + 2;
    if (len === 126) [len, start] = [bytes.readUInt16BE(at + 2), at + 4];
    else if (len === 127) [len, start] = [Number(bytes.readBigUInt64BE(at + 2)), at + 10];
    frames.push({ opcode: bytes[at]! & 0x0f, payload: bytes.subarray(start, start + len) });
    at = start + len;
  }
  return frames;
}

/** A zip whose entry `link` is a symlink (S_IFLNK in the external attributes) to /etc, and a file written through it. */
function symlinkZip(): Promise<Buffer> {
  const zip = new ZipFile();
  zip.addBuffer(Buffer.from('/etc'), 'link', { mode: 0o120777 });
  zip.addBuffer(Buffer.from('{}'), 'link/run.json');
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

describe('the JSON depth check on raw text', () => {
  it('counts nesting outside strings only', () => {
    expect(nestsDeeperThan('[[[1]]]', 3)).toBe(false);
    expect(nestsDeeperThan('[[[[1]]]]', 3)).toBe(true);
    expect(nestsDeeperThan('{"a":"[[[[[[\\"{{{{"}', 1)).toBe(false);
    expect(nestsDeeperThan('[1],[2],[3],[4]', 1)).toBe(false);
  });
});

describe('server: no message or upload ends the process', () => {
  let rpc: Rpc;
  beforeAll(async () => {
    rpc = new Rpc(await wsOpen(`ws://127.0.0.1:${server.port}/ws`, bearer(server)));
  });
  afterAll(() => rpc.ws.terminate());

  it('answers a 10,000-deep nested recipe with an error, before parsing it', async () => {
    const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    const reply = await rpc.send((id) => `{"id":${id},"op":"validateRecipe","args":[${deep}]}`);
    expect(reply).toMatchObject({ ok: false, error: { name: 'ArgumentError', message: `message nests deeper than ${MAX_JSON_DEPTH} levels` } });
    expect(await rpc.send((id) => `{"id":${id},"op":`)).toMatchObject({ ok: false, error: { message: 'not JSON' } });
    expect(await rpc.call('listRuns', { limit: 1 })).toMatchObject({ ok: true });
  });

  it('closes a socket that sends a message over the size limit with 1009; the others carry on', async () => {
    const big = await wsOpen(`ws://127.0.0.1:${server.port}/ws`, bearer(server));
    const closed = new Promise<number>((resolve) => big.on('close', (code) => resolve(code)));
    big.send(JSON.stringify({ id: 1, op: 'validateRecipe', args: [{ name: 'x'.repeat(MAX_MESSAGE_BYTES) }] }));
    expect(await closed).toBe(1009);
    expect(await rpc.call('listRuns', { limit: 1 })).toMatchObject({ ok: true });
  });

  it('closes a socket that sends an unmasked frame', async () => {
    const { socket, received, closed } = await rawSocket();
    socket.write(
      [
        'GET /ws HTTP/1.1',
        `Host: 127.0.0.1:${server.port}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version: 13',
        `Authorization: Bearer ${server.token}`,
        '',
        '',
      ].join('\r\n'),
    );
    for (let k = 0; k < 100 && !received().includes('\r\n\r\n'); k++) await new Promise((r) => setTimeout(r, 20));
    expect(received().toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
    const payload = Buffer.from('{"id":1,"op":"listRuns","args":[]}');
    // FIN + text opcode; the mask bit (0x80 of the second byte) clear: a client must mask, so this is a protocol error.
    socket.write(Buffer.concat([Buffer.from([0x81, payload.length]), payload]));
    await closed;
    // After its hello (a text frame), the server's close frame carries 1002, protocol error.
    const frames = serverFrames(received().subarray(received().indexOf('\r\n\r\n') + 4));
    expect(frames.map((f) => f.opcode)).toEqual([1, 8]);
    expect(frames[1]!.payload.readUInt16BE(0)).toBe(1002);
    expect(await rpc.call('listRuns', { limit: 1 })).toMatchObject({ ok: true });
  });

  it('answers a request target that is not a URL with 400', async () => {
    const { socket, received, closed } = await rawSocket();
    socket.write(`GET http://[ HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nAuthorization: Bearer ${server.token}\r\nConnection: close\r\n\r\n`);
    await closed;
    expect(received().toString('latin1')).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('answers an upload whose import fails (a symlink entry) with an HTTP error, and removes the upload', async () => {
    const up = await http(`${server.url}api/import`, {
      method: 'POST',
      body: await symlinkZip(),
      headers: { ...bearer(server), Origin: `http://127.0.0.1:${server.port}`, 'X-ModeLab': '1', 'Content-Type': 'application/zip' },
    });
    expect(up.status).toBe(400);
    const reply = JSON.parse(up.body.toString()) as { ok: boolean; error: { message: string } };
    expect(reply.ok).toBe(false);
    expect(reply.error.message).toMatch(/^the uploaded bundle: /);
    const dir = store.artifacts.dir;
    expect(existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith('.upload-')) : []).toEqual([]);
  });

  it('then runs a job to completion on the same server', async () => {
    const started = await rpc.call('startRun', { recipe: tinyRecipe('after the attacks'), backend: 'wasm' });
    expect(started.ok).toBe(true);
    const id = (started.value as { id: string }).id;
    await rpc.finished(id);
    expect(await rpc.call('getRun', id)).toMatchObject({ ok: true, value: { status: 'finished' } });
  });
});
