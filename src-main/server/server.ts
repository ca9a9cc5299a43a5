/**
 * Server mode: the built renderer and the wire api over HTTP + WebSocket, so the desktop UI works in a browser —
 * typically a GPU server reached through an SSH tunnel (`ssh -L 7420:localhost:7420 gpu-box`, then the URL
 * `modelab serve` printed).
 *
 * Security (access.ts):
 * - A token always, as Jupyter does, on every address, loopback included (another account on a shared machine reaches
 *   loopback too): random unless given, printed in the URL to open; `?token=` once becomes an HttpOnly,
 *   SameSite=Strict cookie; scripts may send `Authorization: Bearer`. Every request and the WebSocket need it; without
 *   it there is only a one-line page saying to open the printed URL.
 * - Loopback by default, where requests must name a loopback Host (127.0.0.1, localhost, [::1]): a web page on
 *   another site cannot reach the api through DNS rebinding.
 * - The api (/api/*, the WebSocket) is same-origin only: `Sec-Fetch-Site` must not be cross-site or same-site, and an
 *   Origin must match Host, so another site open in the same browser cannot drive or read it.
 * - WebSocket messages are limited in size and JSON depth before parsing (api/message-limits.ts); every failure of a
 *   handler is an error reply or an HTTP error, never a process exit.
 * - Static files only from the built renderer folder (path containment), with a strict CSP and no-sniff headers.
 * - Every call is validated by the wire schemas (api/wire.ts) and answered with an {ok, value|error} envelope.
 */
import { createReadStream, createWriteStream, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import type { ModeLabApi } from '../api/contract';
import type { RecipeFilesPolicy } from '../api/handlers';
import { throttleEvents } from '../api/events';
import { contentSecurityPolicy } from '../api/policy';
import { createWireApi, dispatch, runId, toWireError } from '../api/wire';
import type { WireApi, WsServerMessage } from '../api/wire-types';
import { makeDirs } from '../engine/io/mkdirs';
import { EXISTING_RUN_CHOICES } from '../store/bundle';
import type { HistoryStore } from '../store/history';
import { TOKEN_RULE, carriesToken, hostAllowed, isLoopbackHost, isValidToken, newToken, sameOrigin, sameToken, tokenCookie } from './access';
import { MAX_JSON_DEPTH, MAX_MESSAGE_BYTES, leadingCallId, nestsDeeperThan } from '../api/message-limits';

export { isLoopbackHost } from './access';

export const DEFAULT_PORT = 7420;
const MAX_UPLOAD = 8 * 1024 ** 3;
/** The page a request without the token gets (and nothing else). */
const NEEDS_TOKEN = 'ModeLab: this server needs its access token. Open the URL `modelab serve` printed (it ends with ?token=…).';

export interface ServerOptions {
  api: ModeLabApi;
  store: HistoryStore;
  /** The built renderer (out/renderer). */
  staticDir: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** The access token (16 to 200 of A-Z a-z 0-9 _ -); a random one when not given. Required on every address. */
  token?: string;
  /** Progress events per (run, stage) at most every this many ms (default 200). */
  eventIntervalMs?: number;
  /** Where uploaded endpoint weights files go (POST /api/weights): the folder recipes may name them in (the api's
   *  weightsRoot). Absent: no uploads. */
  weightsRoot?: string;
  /** Where recipe files are read from (the api's `files`): a recipe's check and the app's folder check say what the
   *  api would refuse. */
  files?: RecipeFilesPolicy;
}

/** A weights file a browser may upload: a plain name, .safetensors or a TensorFlow.js model.json or shard. */
const WEIGHTS_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}\.(safetensors|json|bin)$/;

export interface RunningServer {
  url: string;
  /** The URL to open first: `url` with the token. */
  openUrl: string;
  host: string;
  port: number;
  token: string;
  wire: WireApi;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

function securityHeaders(req: http.IncomingMessage): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy({ websocketHost: req.headers.host }),
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), usb=(), serial=()',
  };
}

function sendText(req: http.IncomingMessage, res: http.ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...securityHeaders(req), 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...extra });
  res.end(req.method === 'HEAD' ? undefined : text);
}

function sendJson(req: http.IncomingMessage, res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { ...securityHeaders(req), 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const host = o.host ?? '127.0.0.1';
  const loopback = isLoopbackHost(host);
  if (o.token !== undefined && !isValidToken(o.token)) throw new Error(TOKEN_RULE);
  const token = o.token ?? newToken();
  const staticDir = path.resolve(o.staticDir);
  if (!existsSync(path.join(staticDir, 'index.html'))) {
    throw new Error(`no built renderer in ${staticDir} (run \`npx electron-vite build\` first)`);
  }
  const wire = createWireApi({ api: o.api, store: o.store, mode: 'server', files: o.files });
  // Read per request: a rebuilt renderer (new asset hashes) is served without a restart.
  const indexHtml = (): Buffer => readFileSync(path.join(staticDir, 'index.html'));

  const serveStatic = (req: http.IncomingMessage, res: http.ServerResponse, url: URL): void => {
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname);
    } catch {
      return sendText(req, res, 400, 'bad path');
    }
    if (rel.includes('\0')) return sendText(req, res, 400, 'bad path');
    const file = path.resolve(staticDir, `.${path.posix.normalize(rel)}`);
    const inside = file === staticDir || file.startsWith(staticDir + path.sep);
    const isFile = inside && existsSync(file) && statSync(file).isFile();
    if (!isFile || rel === '/' || rel === '/index.html') {
      // The app is one page: anything that is not an asset gets index.html (the app routes by #hash).
      if (!inside || (/\.[a-z0-9]+$/i.test(rel) && rel !== '/index.html')) return sendText(req, res, 404, 'not found');
      res.writeHead(200, { ...securityHeaders(req), 'Content-Type': TYPES['.html']!, 'Cache-Control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : indexHtml());
      return;
    }
    const type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
    res.writeHead(200, {
      ...securityHeaders(req),
      'Content-Type': type,
      'Content-Length': String(statSync(file).size),
      // Vite names assets by content hash.
      'Cache-Control': rel.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    if (req.method === 'HEAD') res.end();
    else pipeline(createReadStream(file), res).catch(() => res.destroy());
  };

  const downloadBundle = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> => {
    const ids = z.array(runId).min(1).max(1000).safeParse((url.searchParams.get('ids') ?? '').split(',').filter(Boolean));
    if (!ids.success) return sendJson(req, res, 400, { ok: false, error: { name: 'ArgumentError', message: 'ids: one or more run ids, comma-separated' } });
    let dir: string | null = null;
    try {
      dir = mkdtempSync(path.join(os.tmpdir(), 'modelab-bundle-'));
      const file = path.join(dir, 'bundle.zip');
      const r = await o.api.exportRuns({ ids: ids.data, format: 'bundle', out: file });
      const name = r.ids.length === 1 ? `modelab-${r.ids[0]}.zip` : `modelab-${r.ids.length}-runs.zip`;
      res.writeHead(200, {
        ...securityHeaders(req),
        'Content-Type': 'application/zip',
        'Content-Length': String(statSync(file).size),
        'Content-Disposition': `attachment; filename="${name}"`,
        'Cache-Control': 'no-store',
      });
      await pipeline(createReadStream(file), res);
    } catch (e) {
      if (!res.headersSent) sendJson(req, res, 400, { ok: false, error: toWireError(e) });
      else res.destroy();
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  };

  const uploadBundle = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> => {
    // A custom header forces a CORS preflight for any cross-site caller (the Origin was checked with the api's).
    if (req.headers['x-modelab'] !== '1') return sendJson(req, res, 403, { ok: false, error: { name: 'Forbidden', message: 'cross-origin upload refused' } });
    // What to do with runs the history already has (the app asks, then sends the bundle again with its choice).
    const existing = z.enum(EXISTING_RUN_CHOICES).optional().safeParse(url.searchParams.get('existing') ?? undefined);
    if (!existing.success) return sendJson(req, res, 400, { ok: false, error: { name: 'ArgumentError', message: `existing: one of ${EXISTING_RUN_CHOICES.join(', ')}` } });
    const length = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(length) && length > MAX_UPLOAD) return sendJson(req, res, 413, { ok: false, error: { name: 'ArgumentError', message: 'bundle too large' } });
    let dir: string | null = null;
    let file = '';
    try {
      // Beside the artifact folder, like the import's own staging: an upload may be large, and /tmp small.
      makeDirs(o.store.artifacts.dir);
      dir = mkdtempSync(path.join(o.store.artifacts.dir, '.upload-'));
      file = path.join(dir, 'upload.zip');
      let seen = 0;
      req.on('data', (c: Buffer) => {
        seen += c.length;
        if (seen > MAX_UPLOAD) req.destroy(new Error('bundle too large'));
      });
      await pipeline(req, createWriteStream(file));
      const r = await o.api.importBundle(file, { existing: existing.data });
      sendJson(req, res, 200, { ok: true, value: r });
    } catch (e) {
      // The browser's user knows the file they chose, not where the server kept it.
      const error = toWireError(e);
      if (file) error.message = error.message.replaceAll(file, 'the uploaded bundle');
      if (!res.headersSent) sendJson(req, res, 400, { ok: false, error });
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  };

  /** An endpoint's weights file (or a TF.js shard) into the server's weights folder, under its own plain name
   *  (replacing one of that name), written whole or not at all. */
  const uploadWeights = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> => {
    const refuse = (status: number, message: string): void => sendJson(req, res, status, { ok: false, error: { name: status === 403 ? 'Forbidden' : 'ArgumentError', message } });
    if (req.headers['x-modelab'] !== '1') return refuse(403, 'cross-origin upload refused');
    if (!o.weightsRoot) return refuse(404, 'this server takes no weights files');
    const name = url.searchParams.get('name') ?? '';
    if (!WEIGHTS_NAME.test(name) || name.includes('..')) return refuse(400, 'name: a plain file name ending in .safetensors, .json or .bin');
    const length = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(length) && length > MAX_UPLOAD) return refuse(413, 'weights file too large');
    let tmp: string | null = null;
    try {
      makeDirs(o.weightsRoot);
      tmp = path.join(o.weightsRoot, `.${name}.${process.pid}.upload`);
      let seen = 0;
      req.on('data', (c: Buffer) => {
        seen += c.length;
        if (seen > MAX_UPLOAD) req.destroy(new Error('weights file too large'));
      });
      await pipeline(req, createWriteStream(tmp));
      renameSync(tmp, path.join(o.weightsRoot, name));
      tmp = null;
      sendJson(req, res, 200, { ok: true, value: { name } });
    } catch (e) {
      if (!res.headersSent) sendJson(req, res, 400, { ok: false, error: toWireError(e) });
    } finally {
      if (tmp) rmSync(tmp, { force: true });
    }
  };

  const handleRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!hostAllowed(req, loopback)) return sendText(req, res, 421, 'this server answers only to localhost');
    if (!carriesToken(req, url, token)) return sendText(req, res, 401, NEEDS_TOKEN);
    if (url.pathname.startsWith('/api/') && !sameOrigin(req)) {
      return sendJson(req, res, 403, { ok: false, error: { name: 'Forbidden', message: 'the api answers only the app\'s own pages' } });
    }
    if (sameToken(url.searchParams.get('token'), token) && !url.pathname.startsWith('/api/')) {
      // Trade the token in the URL for a cookie, and drop it from the address bar.
      url.searchParams.delete('token');
      res.writeHead(303, { ...securityHeaders(req), 'Set-Cookie': tokenCookie(token), Location: `${url.pathname}${url.search}`, 'Cache-Control': 'no-store' });
      res.end();
      return;
    }
    if (url.pathname === '/api/health') return sendJson(req, res, 200, { ok: true });
    if (url.pathname === '/api/bundle' && (req.method === 'GET' || req.method === 'HEAD')) return void downloadBundle(req, res, url).catch(() => res.destroy());
    if (url.pathname === '/api/import' && req.method === 'POST') return void uploadBundle(req, res, url).catch(() => res.destroy());
    if (url.pathname === '/api/weights' && req.method === 'POST') return void uploadWeights(req, res, url).catch(() => res.destroy());
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(req, res, 405, 'method not allowed', { Allow: 'GET, HEAD' });
    serveStatic(req, res, url);
  };

  const server = http.createServer((req, res) => {
    try {
      handleRequest(req, res);
    } catch {
      // A request target URL cannot parse, a file vanished between its checks, …: this request fails, not the server.
      if (!res.headersSent) sendText(req, res, 400, 'bad request');
      else res.destroy();
    }
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  const sockets = new Set<WebSocket>();
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    // A reset before the handshake completes is this connection's end, not the server's.
    socket.on('error', () => socket.destroy());
    const refuse = (code: number, why: string): void => {
      socket.end(`HTTP/1.1 ${code} ${why}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return refuse(400, 'Bad Request');
    }
    if (url.pathname !== '/ws') return refuse(404, 'Not Found');
    if (!hostAllowed(req, loopback)) return refuse(421, 'Misdirected Request');
    if (!carriesToken(req, url, token)) return refuse(401, 'Unauthorized');
    if (!sameOrigin(req)) return refuse(403, 'Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    sockets.add(ws);
    const send = (m: WsServerMessage): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
    };
    const refuse = (id: number, message: string): void => send({ id, ok: false, error: { name: 'ArgumentError', message } });
    const events = throttleEvents((event) => send({ event }), o.eventIntervalMs ?? 200);
    const off = o.api.subscribe((e) => events.push(e));
    // A study's events are few (a cell's change, its progress once a second): unthrottled.
    const offStudies = o.api.subscribeStudies((studyEvent) => send({ studyEvent }));
    let alive = true;
    ws.on('pong', () => (alive = true));
    const ping = setInterval(() => {
      if (!alive) return ws.terminate();
      alive = false;
      ws.ping();
    }, 30_000);
    ping.unref();
    // A message over MAX_MESSAGE_BYTES (close 1009), an unmasked or malformed frame (1002): ws closes this socket and
    // reports the reason here; unhandled, the 'error' event would end the process.
    ws.on('error', () => ws.terminate());
    ws.on('message', (data, isBinary) => {
      if (isBinary) return refuse(-1, 'binary messages are not understood: send JSON text');
      const text = data.toString();
      if (nestsDeeperThan(text, MAX_JSON_DEPTH)) return refuse(leadingCallId(text), `message nests deeper than ${MAX_JSON_DEPTH} levels`);
      let msg: unknown;
      try {
        msg = JSON.parse(text);
      } catch {
        return refuse(leadingCallId(text), 'not JSON');
      }
      const m = (typeof msg === 'object' && msg !== null ? msg : {}) as { id?: unknown; op?: unknown; args?: unknown };
      const id = typeof m.id === 'number' && Number.isSafeInteger(m.id) ? m.id : -1;
      dispatch(wire, m.op, m.args ?? [])
        .catch((e: unknown) => ({ ok: false as const, error: toWireError(e) }))
        .then((env) => send({ id, ...env }))
        .catch((e: unknown) => refuse(id, `the reply could not be sent: ${(e as Error).message}`));
    });
    ws.on('close', () => {
      sockets.delete(ws);
      clearInterval(ping);
      off();
      offStudies();
      events.close();
    });
    wire
      .appInfo()
      .then((info) => send({ hello: info }))
      .catch(() => ws.close(1011, 'no app info'));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? DEFAULT_PORT, host, () => {
      server.off('error', reject);
      // Once listening, an error is a failed accept (too many open files, …): that connection is lost, the server
      // keeps listening.
      server.on('error', () => undefined);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? os.hostname() : host;
  const url = `http://${urlHost}:${port}/`;
  return {
    url,
    openUrl: `${url}?token=${token}`,
    host,
    port,
    token,
    wire,
    close: async () => {
      for (const s of sockets) s.terminate();
      wss.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
