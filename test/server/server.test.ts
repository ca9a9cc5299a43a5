/**
 * Server mode: the built renderer and the wire api over HTTP + WebSocket. A token always (loopback included), only
 * loopback Host names on loopback, a same-origin api; a WS api round trip with validation; bundle download and
 * upload.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModeLabApi } from '../../src-main/api/contract';
import { createApi } from '../../src-main/api/handlers';
import type { RunDetail } from '../../src-main/api/wire-types';
import { type RunningServer, isLoopbackHost, startServer } from '../../src-main/server/server';
import { HistoryStore } from '../../src-main/store/history';
import { tempDir } from '../store/helpers';
import { tinyRecipe } from '../jobs/recipes';
import { Rpc, bearer, http, wsOpen } from './helpers';

const ROOT = path.resolve(import.meta.dirname, '../..');
const STATIC = path.join(ROOT, 'out/renderer');

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
  it('binds 127.0.0.1, and serves the app with a strict CSP', async () => {
    expect(local.host).toBe('127.0.0.1');
    expect(local.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const r = await http(local.url, { headers: bearer(local) });
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
    const html = (await http(local.url, { headers: bearer(local) })).body.toString();
    const js = /src="\.?(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const r = await http(new URL(js, local.url).href, { headers: bearer(local) });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/javascript/);
    expect(r.headers['cache-control']).toMatch(/immutable/);
    for (const p of ['/%2e%2e/%2e%2e/package.json', '/..%2f..%2fpackage.json', '/assets/../../package.json', '/%00', '/nope.js']) {
      const x = await http(`${local.url.replace(/\/$/, '')}${p}`, { headers: bearer(local) });
      expect([400, 404], p).toContain(x.status);
      expect(x.body.toString()).not.toContain('"name": "modelab"');
    }
    expect((await http(local.url, { method: 'DELETE', headers: bearer(local) })).status).toBe(405);
  });

  it('answers only to loopback host names (no DNS rebinding)', async () => {
    const r = await http(local.url, { headers: { ...bearer(local), Host: `evil.example:${local.port}` } });
    expect(r.status).toBe(421);
    await expect(wsOpen(`ws://127.0.0.1:${local.port}/ws`, { ...bearer(local), Host: `evil.example:${local.port}` })).rejects.toThrow(/421/);
    expect((await http(local.url, { headers: { ...bearer(local), Host: `localhost:${local.port}` } })).status).toBe(200);
    expect(isLoopbackHost('::1')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
    expect(isLoopbackHost('192.168.1.4')).toBe(false);
  });

  it('refuses cross-origin WebSockets, even with the token', async () => {
    await expect(wsOpen(`ws://127.0.0.1:${local.port}/ws`, { ...bearer(local), Origin: 'http://evil.example' })).rejects.toThrow(/403/);
    await expect(wsOpen(`ws://127.0.0.1:${local.port}/ws`, { ...bearer(local), 'Sec-Fetch-Site': 'cross-site' })).rejects.toThrow(/403/);
    const ok = await wsOpen(`ws://127.0.0.1:${local.port}/ws`, { ...bearer(local), Origin: `http://127.0.0.1:${local.port}` });
    ok.terminate();
  });
});

describe('server: a token always, loopback included', () => {
  const NO_TOKEN = /Open the URL `modelab serve` printed/;

  it('makes a random token and prints the URL that carries it', async () => {
    expect(local.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(local.openUrl).toBe(`${local.url}?token=${local.token}`);
    const other = await startServer({ api, store, staticDir: STATIC, port: 0 });
    try {
      expect(other.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(other.token).not.toBe(local.token);
    } finally {
      await other.close();
    }
    await expect(startServer({ api, store, staticDir: STATIC, port: 0, token: 'short' })).rejects.toThrow(/16 to 200 letters/);
  });

  it('without the token: only the one-line page, for the app, its assets, the api and the socket', async () => {
    const html = (await http(local.url, { headers: bearer(local) })).body.toString();
    const js = /src="\.?(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    for (const p of ['', 'index.html', js.slice(1), 'api/health', 'api/bundle?ids=abc']) {
      const r = await http(`${local.url}${p}`);
      expect(r.status, p).toBe(401);
      expect(r.body.toString(), p).toMatch(NO_TOKEN);
    }
    expect((await http(`${local.url}api/import`, { method: 'POST', headers: { 'X-ModeLab': '1' }, body: Buffer.from('PK') })).status).toBe(401);
    await expect(wsOpen(`ws://127.0.0.1:${local.port}/ws`)).rejects.toThrow(/401/);
    await expect(wsOpen(`ws://localhost:${local.port}/ws`, { Origin: `http://localhost:${local.port}` })).rejects.toThrow(/401/);
  });

  it('refuses a wrong token wherever it is carried', async () => {
    const wrong = [local.token.slice(0, -1) + (local.token.endsWith('A') ? 'B' : 'A'), local.token.slice(0, 16), `${local.token}x`, '%'];
    for (const w of wrong) {
      expect((await http(`${local.url}?token=${w}`)).status, w).toBe(401);
      expect((await http(local.url, { headers: { Cookie: `modelab_token=${w}` } })).status, w).toBe(401);
      expect((await http(`${local.url}api/health`, { headers: { Authorization: `Bearer ${w}` } })).status, w).toBe(401);
      await expect(wsOpen(`ws://127.0.0.1:${local.port}/ws?token=${w}`)).rejects.toThrow(/401/);
    }
  });

  it('trades the token in the URL for an HttpOnly SameSite=Strict cookie, which then opens the page and the socket', async () => {
    const r = await http(`${local.url}?token=${local.token}&e2e=1`);
    expect(r.status).toBe(303);
    expect(r.headers['location']).toBe('/?e2e=1');
    const cookie = String(r.headers['set-cookie']);
    expect(cookie).toMatch(/^modelab_token=[^;]+; HttpOnly; SameSite=Strict; Path=\//);
    const c = cookie.split(';')[0]!;
    expect((await http(local.url, { headers: { Cookie: `theme=dark; ${c}` } })).status).toBe(200);
    expect((await http(`${local.url}api/health`, { headers: { Cookie: c } })).status).toBe(200);
    const ws = await wsOpen(`ws://127.0.0.1:${local.port}/ws`, { Cookie: c, Origin: `http://127.0.0.1:${local.port}` });
    expect(await new Rpc(ws).call('listRuns', { limit: 1 })).toMatchObject({ ok: true });
    ws.terminate();
    // Scripts: the token in the socket's URL or as a Bearer header.
    const ws2 = await wsOpen(`ws://127.0.0.1:${local.port}/ws?token=${local.token}`);
    expect(await new Rpc(ws2).call('listRuns', { limit: 1 })).toMatchObject({ ok: true });
    ws2.terminate();
  });

  it('serves no api GET cross-site, even with the cookie', async () => {
    const cookie = { Cookie: `modelab_token=${local.token}` };
    const bundle = `${local.url}api/bundle?ids=zzzzzzzzzzzz`;
    expect((await http(bundle, { headers: { ...cookie, 'Sec-Fetch-Site': 'cross-site' } })).status).toBe(403);
    // Another port of this host is the same site, not the same origin.
    expect((await http(bundle, { headers: { ...cookie, 'Sec-Fetch-Site': 'same-site' } })).status).toBe(403);
    expect((await http(bundle, { headers: { ...cookie, Origin: 'http://evil.example' } })).status).toBe(403);
    expect((await http(`${local.url}api/health`, { headers: { ...cookie, Origin: 'null' } })).status).toBe(403);
    // The app's own download link (same-origin), or one typed in the address bar (none), reaches the handler.
    for (const site of ['same-origin', 'none']) {
      const r = await http(bundle, { headers: { ...cookie, 'Sec-Fetch-Site': site } });
      expect(r.status, site).toBe(400);
      expect(JSON.parse(r.body.toString())).toMatchObject({ ok: false, error: { name: 'NotFound' } });
    }
  });

  it('asks for the token on any other address too (127.0.0.2, 0.0.0.0)', async () => {
    for (const host of ['127.0.0.2', '0.0.0.0']) {
      const other = await startServer({ api, store, staticDir: STATIC, host, port: 0 });
      try {
        const base = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${other.port}/`;
        expect((await http(base)).status, host).toBe(401);
        expect((await http(`${base}api/health`)).status, host).toBe(401);
        await expect(wsOpen(`ws://${new URL(base).host}/ws`)).rejects.toThrow(/401/);
        expect((await http(base, { headers: bearer(other) })).status, host).toBe(200);
        expect(other.openUrl).toContain(`?token=${other.token}`);
      } finally {
        await other.close();
      }
    }
  });
});

describe('server: the api over WebSocket', () => {
  let rpc: Rpc;
  beforeAll(async () => {
    rpc = new Rpc(await wsOpen(`ws://127.0.0.1:${local.port}/ws`, bearer(local)));
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
    await rpc.finished(id);
    const mine = rpc.events.filter((e) => e.runId === id) as { type: string; event?: { kind: string } }[];
    expect([...new Set(mine.map((e) => e.type))]).toEqual(['status', 'run']);
    // A run's progress and results arrive as run events: its plan, progress, curve points, endpoints and paths.
    const kinds = new Set(mine.filter((e) => e.type === 'run').map((e) => e.event!.kind));
    expect([...kinds]).toEqual(expect.arrayContaining(['plan', 'progress', 'curve', 'endpoint', 'path', 'done']));
    const rows = (await rpc.call('listRunRows', { tags: ['ws'] })) as { value: { runs: { id: string; paths: { name: string; trainBarrier: number }[]; architecture: string }[] } };
    expect(rows.value.runs[0]).toMatchObject({ id, architecture: expect.stringMatching(/MLP/) });
    expect(rows.value.runs[0]!.paths.map((p) => p.name)).toEqual(['linear', 'theorem1']);
    const csv = (await rpc.call('exportText', [id], 'csv')) as { value: string };
    expect(csv.value.split('\n')[0]).toBe('run,path,t,split,loss,acc');

    const zip = await http(`${local.url}api/bundle?ids=${id}`, { headers: bearer(local) });
    expect(zip.status).toBe(200);
    expect(zip.headers['content-type']).toBe('application/zip');
    expect(zip.headers['content-disposition']).toContain(`modelab-${id}.zip`);
    expect(zip.body.subarray(0, 2).toString()).toBe('PK');
    const before = (await rpc.call('getRun', id)) as { value: RunDetail };
    expect(await rpc.call('deleteRuns', [id])).toMatchObject({ ok: true, value: { runs: 1 } });

    // Upload: refused cross-origin or without the custom header; accepted same-origin.
    const origin = `http://127.0.0.1:${local.port}`;
    const auth = bearer(local);
    expect((await http(`${local.url}api/import`, { method: 'POST', body: zip.body, headers: { ...auth, Origin: 'http://evil.example', 'X-ModeLab': '1' } })).status).toBe(403);
    expect((await http(`${local.url}api/import`, { method: 'POST', body: zip.body, headers: { ...auth, Origin: origin } })).status).toBe(403);
    const upload = (query = ''): Promise<unknown> =>
      http(`${local.url}api/import${query}`, { method: 'POST', body: zip.body, headers: { ...auth, Origin: origin, 'X-ModeLab': '1', 'Content-Type': 'application/zip' } }).then((r) => JSON.parse(r.body.toString()));
    expect(await upload()).toEqual({ ok: true, value: { ids: [id], skipped: [], warnings: [] } });
    const after = (await rpc.call('getRun', id)) as { value: RunDetail };
    expect(after.value).toEqual(before.value);
    // Uploaded again: refused (the app then asks), skipped or copied as chosen.
    expect(await upload()).toMatchObject({ ok: false, error: { code: 'RUN_EXISTS' } });
    expect(await upload('?existing=skip')).toEqual({ ok: true, value: { ids: [], skipped: [id], warnings: [] } });
    expect(await upload('?existing=sometimes')).toMatchObject({ ok: false, error: { name: 'ArgumentError', message: 'existing: one of refuse, skip, copy' } });
    expect(((await rpc.call('listRuns', { tags: ['ws'] })) as { value: { total: number } }).value.total).toBe(1);
    expect((await http(`${local.url}api/bundle?ids=../../etc`, { headers: auth })).status).toBe(400);
  });
});
