/**
 * Server mode: the built renderer and the wire api over HTTP + WebSocket, so the desktop UI works in a browser —
 * typically a GPU server reached through an SSH tunnel (`ssh -L 7420:localhost:7420 gpu-box`, then
 * http://localhost:7420).
 *
 * Security:
 * - Loopback by default. On loopback, requests must name a loopback Host (127.0.0.1, localhost, [::1]): a web page
 *   on another site cannot reach the api through DNS rebinding.
 * - Bound elsewhere, a random token (printed at start) is required: `?token=` once, which becomes an HttpOnly,
 *   SameSite=Strict cookie; the WebSocket upgrade checks the cookie (or `?token=`).
 * - The WebSocket and the upload endpoint accept only same-origin requests (Origin must match Host), so another site
 *   open in the same browser cannot drive the api (cross-site WebSocket hijacking, CSRF).
 * - Static files only from the built renderer folder (path containment), with a strict CSP and no-sniff headers.
 * - Every call is validated by the wire schemas (api/wire.ts) and answered with an {ok, value|error} envelope.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import type { ModeLabApi } from '../api/contract';
import { throttleEvents } from '../api/events';
import { contentSecurityPolicy } from '../api/policy';
import { createWireApi, dispatch, runId, toWireError } from '../api/wire';
import type { WireApi, WsServerMessage } from '../api/wire-types';
import type { HistoryStore } from '../store/history';

export const DEFAULT_PORT = 7420;
const COOKIE = 'modelab_token';
const MAX_UPLOAD = 8 * 1024 ** 3;

export interface ServerOptions {
  api: ModeLabApi;
  store: HistoryStore;
  /** The built renderer (out/renderer). */
  staticDir: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** The access token: generated when the host is not loopback; give one to require it on loopback too. */
  token?: string;
  /** Progress events per (run, stage) at most every this many ms (default 200). */
  eventIntervalMs?: number;
}

export interface RunningServer {
  url: string;
  /** The URL to open first (with the token, when one is required). */
  openUrl: string;
  host: string;
  port: number;
  token: string | null;
  wire: WireApi;
  close(): Promise<void>;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return LOOPBACK_NAMES.has(h) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h.endsWith('.localhost');
}

/** The host name of a Host header ("localhost:7420", "[::1]:7420"). */
function hostName(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:]+)(?::\d+)?$/.exec(header.trim());
  return m ? m[1]!.replace(/^\[|\]$/g, '') : null;
}

function sameToken(given: string | undefined | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieValue(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return null;
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
  const token = o.token ?? (loopback ? null : randomBytes(24).toString('base64url'));
  const staticDir = path.resolve(o.staticDir);
  if (!existsSync(path.join(staticDir, 'index.html'))) {
    throw new Error(`no built renderer in ${staticDir} (run \`npx electron-vite build\` first)`);
  }
  const wire = createWireApi({ api: o.api, store: o.store, mode: 'server' });
  // Read per request: a rebuilt renderer (new asset hashes) is served without a restart.
  const indexHtml = (): Buffer => readFileSync(path.join(staticDir, 'index.html'));

  /** Loopback: the Host header must be a loopback name (DNS rebinding). */
  const hostAllowed = (req: http.IncomingMessage): boolean => {
    if (!loopback) return true;
    const h = hostName(req.headers.host);
    return h !== null && isLoopbackHost(h);
  };
  const sameOrigin = (req: http.IncomingMessage): boolean => {
    const origin = req.headers.origin;
    if (origin === undefined) return true; // not a browser (tests, curl): the token / loopback rules still apply
    try {
      return new URL(origin).host === req.headers.host;
    } catch {
      return false;
    }
  };
  const authorised = (req: http.IncomingMessage, url: URL): boolean =>
    token === null || sameToken(cookieValue(req.headers.cookie, COOKIE), token) || sameToken(url.searchParams.get('token'), token);

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
    else createReadStream(file).pipe(res);
  };

  const downloadBundle = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> => {
    const ids = z.array(runId).min(1).max(1000).safeParse((url.searchParams.get('ids') ?? '').split(',').filter(Boolean));
    if (!ids.success) return sendJson(req, res, 400, { ok: false, error: { name: 'ArgumentError', message: 'ids: one or more run ids, comma-separated' } });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'modelab-bundle-'));
    try {
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
      rmSync(dir, { recursive: true, force: true });
    }
  };

  const uploadBundle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    // A custom header forces a CORS preflight for any cross-site caller, and the Origin must be ours.
    if (req.headers['x-modelab'] !== '1' || !sameOrigin(req)) return sendJson(req, res, 403, { ok: false, error: { name: 'Forbidden', message: 'cross-origin upload refused' } });
    const length = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(length) && length > MAX_UPLOAD) return sendJson(req, res, 413, { ok: false, error: { name: 'ArgumentError', message: 'bundle too large' } });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'modelab-import-'));
    try {
      const file = path.join(dir, 'upload.zip');
      let seen = 0;
      req.on('data', (c: Buffer) => {
        seen += c.length;
        if (seen > MAX_UPLOAD) req.destroy(new Error('bundle too large'));
      });
      await pipeline(req, createWriteStream(file));
      const r = await o.api.importBundle(file);
      sendJson(req, res, 200, { ok: true, value: r });
    } catch (e) {
      if (!res.headersSent) sendJson(req, res, 400, { ok: false, error: toWireError(e) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!hostAllowed(req)) return sendText(req, res, 421, 'this server answers only to localhost');
    if (!authorised(req, url)) {
      return sendText(req, res, 401, 'ModeLab: this server needs its access token. Open the URL `modelab serve` printed (it ends with ?token=…).');
    }
    const given = url.searchParams.get('token');
    if (token !== null && given !== null && sameToken(given, token)) {
      // Trade the token in the URL for a cookie, and drop it from the address bar.
      url.searchParams.delete('token');
      res.writeHead(303, {
        ...securityHeaders(req),
        'Set-Cookie': `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
        Location: `${url.pathname}${url.search}`,
        'Cache-Control': 'no-store',
      });
      res.end();
      return;
    }
    if (url.pathname === '/api/health') return sendJson(req, res, 200, { ok: true });
    if (url.pathname === '/api/bundle' && (req.method === 'GET' || req.method === 'HEAD')) return void downloadBundle(req, res, url);
    if (url.pathname === '/api/import' && req.method === 'POST') return void uploadBundle(req, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(req, res, 405, 'method not allowed', { Allow: 'GET, HEAD' });
    serveStatic(req, res, url);
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 4 * 1024 * 1024 });
  const sockets = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const refuse = (code: number, why: string): void => {
      socket.end(`HTTP/1.1 ${code} ${why}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== '/ws') return refuse(404, 'Not Found');
    if (!hostAllowed(req)) return refuse(421, 'Misdirected Request');
    if (!sameOrigin(req)) return refuse(403, 'Forbidden');
    if (!authorised(req, url)) return refuse(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    sockets.add(ws);
    const send = (m: WsServerMessage): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
    };
    const events = throttleEvents((event) => send({ event }), o.eventIntervalMs ?? 200);
    const off = o.api.subscribe((e) => events.push(e));
    let alive = true;
    ws.on('pong', () => (alive = true));
    const ping = setInterval(() => {
      if (!alive) return ws.terminate();
      alive = false;
      ws.ping();
    }, 30_000);
    ping.unref();
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let msg: unknown;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        return send({ id: -1, ok: false, error: { name: 'ArgumentError', message: 'not JSON' } });
      }
      const m = msg as { id?: unknown; op?: unknown; args?: unknown };
      const id = typeof m.id === 'number' && Number.isSafeInteger(m.id) ? m.id : -1;
      void dispatch(wire, m.op, m.args ?? []).then((env) => send({ id, ...env }));
    });
    ws.on('close', () => {
      sockets.delete(ws);
      clearInterval(ping);
      off();
      events.close();
    });
    void wire.appInfo().then((info) => send({ hello: info }));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? DEFAULT_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? os.hostname() : host;
  const url = `http://${urlHost}:${port}/`;
  return {
    url,
    openUrl: token ? `${url}?token=${token}` : url,
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
