/**
 * Server mode: the built renderer and the wire api over HTTP + WebSocket. Loopback by default (and only loopback
 * Host names); a token for any other address; same-origin WebSockets; a WS api round trip with validation; bundle
 * download and upload.
 */
import { request } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ModeLabApi } from '../../src-main/api/contract';
import { createApi } from '../../src-main/api/handlers';
import type { ApiEvent, RunDetail } from '../../src-main/api/wire-types';
import { type RunningServer, isLoopbackHost, startServer } from '../../src-main/server/server';
import { HistoryStore } from '../../src-main/store/history';
import { tempDir } from '../store/helpers';
import { tinyRecipe } from '../jobs/recipes';

const ROOT = path.resolve(import.meta.dirname, '../..');
const STATIC = path.join(ROOT, 'out/renderer');

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function http(url: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

function wsOpen(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => resolve(ws));
    ws.on('unexpected-response', (_req, res) => reject(new Error(`refused ${res.statusCode}`)));
    ws.on('error', reject);
  });
}

class Rpc {
  private next = 1;
  private readonly pending = new Map<number, (m: unknown) => void>();
  readonly events: ApiEvent[] = [];
  hello: unknown = null;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as { id?: number; event?: ApiEvent; hello?: unknown };
      if (m.event) this.events.push(m.event);
      else if (m.hello) this.hello = m.hello;
      else if (m.id !== undefined) this.pending.get(m.id)?.(m);
    });
  }
  call(op: string, ...args: unknown[]): Promise<{ ok: boolean; value?: unknown; error?: { name: string; message: string } }> {
    const id = this.next++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve as (m: unknown) => void);
      this.ws.send(JSON.stringify({ id, op, args }));
    });
  }
}

let t: ReturnType<typeof tempDir>;
let store: HistoryStore;
let api: ModeLabApi;
let local: RunningServer;

beforeAll(async () => {
  t = tempDir('modelab-server-');
  store = await HistoryStore.open({ db: path.join(t.dir, 'history.sqlite') });
  api = createApi({ store, runnerOptions: { heartbeatMs: 250 } });
  local = await startServer({ api, store, staticDir: STATIC, port: 0, eventIntervalMs: 50 });
});
afterAll(async () => {
  await local?.close();
  await api.close();
  t.cleanup();
});

describe('server: loopback by default', () => {
  it('binds 127.0.0.1 without a token, and serves the app with a strict CSP', async () => {
    expect(local.host).toBe('127.0.0.1');
    expect(local.token).toBeNull();
    expect(local.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const r = await http(local.url);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    expect(r.body.toString()).toContain('<div id="app">');
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe/);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['x-frame-options']).toBe('DENY');
  });

  it('serves built assets with their types, nothing outside the renderer folder', async () => {
    const html = (await http(local.url)).body.toString();
    const js = /src="\.?(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const r = await http(new URL(js, local.url).href);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/javascript/);
    expect(r.headers['cache-control']).toMatch(/immutable/);
    for (const p of ['/%2e%2e/%2e%2e/package.json', '/..%2f..%2fpackage.json', '/assets/../../package.json', '/%00', '/nope.js']) {
      const x = await http(`${local.url.replace(/\/$/, '')}${p}`);
      expect([400, 404], p).toContain(x.status);
      expect(x.body.toString()).not.toContain('"name": "modelab"');
    }
    expect((await http(local.url, { method: 'DELETE' })).status).toBe(405);
  });

  it('answers only to loopback host names (no DNS rebinding)', async () => {
    const r = await http(local.url, { headers: { Host: `evil.example:${local.port}` } });
    expect(r.status).toBe(421);
    await expect(wsOpen(`ws://127.0.0.1:${local.port}/ws`, { Host: `evil.example:${local.port}` })).rejects.toThrow(/421/);
    expect((await http(local.url, { headers: { Host: `localhost:${local.port}` } })).status).toBe(200);
    expect(isLoopbackHost('::1')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
    expect(isLoopbackHost('192.168.1.4')).toBe(false);
  });

  it('refuses cross-origin WebSockets', async () => {
    await expect(wsOpen(`ws://127.0.0.1:${local.port}/ws`, { Origin: 'http://evil.example' })).rejects.toThrow(/403/);
    const ok = await wsOpen(`ws://127.0.0.1:${local.port}/ws`, { Origin: `http://127.0.0.1:${local.port}` });
    ok.terminate();
  });
});

describe('server: the api over WebSocket', () => {
  let rpc: Rpc;
  beforeAll(async () => {
    rpc = new Rpc(await wsOpen(`ws://127.0.0.1:${local.port}/ws`));
  });
  afterAll(() => rpc.ws.terminate());

  it('round-trips calls in envelopes and validates every argument', async () => {
    expect(await rpc.call('listRuns', { limit: 10 })).toEqual({ id: 1, ok: true, value: { runs: [], total: 0, limit: 10, offset: 0 } });
    expect(await rpc.call('appInfo')).toMatchObject({ ok: true, value: { mode: 'server', historyPath: store.location.dbPath } });
    expect(await rpc.call('presets')).toMatchObject({ ok: true, value: expect.arrayContaining([expect.objectContaining({ name: 'smoke' })]) });
    expect(await rpc.call('listRuns', { limit: -1 })).toMatchObject({ ok: false, error: { name: 'ArgumentError' } });
    expect(await rpc.call('exportRuns', { ids: ['x'], format: 'csv', out: '/etc/passwd' })).toMatchObject({ ok: false, error: { name: 'ArgumentError', message: /unknown operation/ } });
    expect(await rpc.call('importBundle', '/tmp/x.zip')).toMatchObject({ ok: false, error: { message: /unknown operation/ } });
    expect(await rpc.call('__proto__')).toMatchObject({ ok: false, error: { name: 'ArgumentError' } });
    expect(await rpc.call('startRun', { preset: 'smoke', dataDir: 'not/absolute' })).toMatchObject({ ok: false, error: { name: 'ArgumentError' } });
    expect(await rpc.call('getRun', 'zzzzzzzzzzzz')).toMatchObject({ ok: false, error: { name: 'NotFound' } });
    expect(await rpc.call('validateRecipe', { name: 'x', training: { lr: -1 } })).toMatchObject({
      ok: true,
      value: { ok: false, issues: expect.arrayContaining([expect.objectContaining({ path: ['training', 'lr'] })]) },
    });
  });

  it('starts a run, pushes its events to the socket, and serves its bundle for download and upload', async () => {
    const started = (await rpc.call('startRun', { recipe: tinyRecipe('over ws'), name: 'ws run', tags: ['ws'], backend: 'wasm' })) as { ok: true; value: { id: string } };
    expect(started.ok).toBe(true);
    const id = started.value.id;
    for (let k = 0; k < 600 && !rpc.events.some((e) => e.runId === id && e.type === 'status' && e.status === 'finished'); k++) await new Promise((r) => setTimeout(r, 100));
    const types = new Set(rpc.events.filter((e) => e.runId === id).map((e) => e.type));
    expect([...types]).toEqual(expect.arrayContaining(['status', 'progress', 'curve', 'endpoint', 'path']));
    const rows = (await rpc.call('listRunRows', { tags: ['ws'] })) as { value: { runs: { id: string; paths: { name: string; trainBarrier: number }[]; architecture: string }[] } };
    expect(rows.value.runs[0]).toMatchObject({ id, architecture: expect.stringMatching(/MLP/) });
    expect(rows.value.runs[0]!.paths.map((p) => p.name)).toEqual(['linear', 'theorem1']);
    const csv = (await rpc.call('exportText', [id], 'csv')) as { value: string };
    expect(csv.value.split('\n')[0]).toBe('run,path,t,split,loss,acc');

    const zip = await http(`${local.url}api/bundle?ids=${id}`);
    expect(zip.status).toBe(200);
    expect(zip.headers['content-type']).toBe('application/zip');
    expect(zip.headers['content-disposition']).toContain(`modelab-${id}.zip`);
    expect(zip.body.subarray(0, 2).toString()).toBe('PK');
    const before = (await rpc.call('getRun', id)) as { value: RunDetail };
    expect(await rpc.call('deleteRuns', [id])).toMatchObject({ ok: true, value: { runs: 1 } });

    // Upload: refused cross-origin or without the custom header; accepted same-origin.
    const origin = `http://127.0.0.1:${local.port}`;
    expect((await http(`${local.url}api/import`, { method: 'POST', body: zip.body, headers: { Origin: 'http://evil.example', 'X-ModeLab': '1' } })).status).toBe(403);
    expect((await http(`${local.url}api/import`, { method: 'POST', body: zip.body, headers: { Origin: origin } })).status).toBe(403);
    const up = await http(`${local.url}api/import`, { method: 'POST', body: zip.body, headers: { Origin: origin, 'X-ModeLab': '1', 'Content-Type': 'application/zip' } });
    expect(JSON.parse(up.body.toString())).toEqual({ ok: true, value: { ids: [id] } });
    const after = (await rpc.call('getRun', id)) as { value: RunDetail };
    expect(after.value).toEqual(before.value);
    expect((await http(`${local.url}api/bundle?ids=../../etc`)).status).toBe(400);
  });
});

describe('server: any other address needs the token', () => {
  let remote: RunningServer;
  beforeAll(async () => {
    remote = await startServer({ api, store, staticDir: STATIC, host: '0.0.0.0', port: 0 });
  });
  afterAll(() => remote?.close());

  it('prints a random token and refuses requests without it', async () => {
    expect(remote.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(remote.openUrl).toContain(`?token=${remote.token}`);
    const base = `http://127.0.0.1:${remote.port}/`;
    expect((await http(base)).status).toBe(401);
    expect((await http(`${base}?token=wrong`)).status).toBe(401);
    expect((await http(base, { headers: { Cookie: 'modelab_token=wrong' } })).status).toBe(401);
    await expect(wsOpen(`ws://127.0.0.1:${remote.port}/ws`)).rejects.toThrow(/401/);
  });

  it('trades the token in the URL for an HttpOnly SameSite cookie, which then opens the page and the socket', async () => {
    const base = `http://127.0.0.1:${remote.port}/`;
    const r = await http(`${base}?token=${remote.token}`);
    expect(r.status).toBe(303);
    expect(r.headers['location']).toBe('/');
    const cookie = String(r.headers['set-cookie']);
    expect(cookie).toMatch(/^modelab_token=[^;]+; HttpOnly; SameSite=Strict; Path=\//);
    const c = cookie.split(';')[0]!;
    expect((await http(base, { headers: { Cookie: c } })).status).toBe(200);
    const ws = await wsOpen(`ws://127.0.0.1:${remote.port}/ws`, { Cookie: c });
    const rpc = new Rpc(ws);
    expect(await rpc.call('listRuns', { limit: 1 })).toMatchObject({ ok: true });
    ws.terminate();
  });
});
