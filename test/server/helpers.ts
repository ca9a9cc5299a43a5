/** Clients for the in-process server tests: plain HTTP requests, WebSocket opens, and the api's envelope protocol. */
import { request } from 'node:http';
import WebSocket from 'ws';
import type { ApiEvent, StudyEvent } from '../../src-main/api/wire-types';
import type { RunningServer } from '../../src-main/server/server';

export interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export function http(url: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer } = {}): Promise<Res> {
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

/** The header a script sends the token in. */
export function bearer(server: RunningServer): Record<string, string> {
  return { Authorization: `Bearer ${server.token}` };
}

export function wsOpen(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => resolve(ws));
    ws.on('unexpected-response', (_req, res) => reject(new Error(`refused ${res.statusCode}`)));
    ws.on('error', reject);
  });
}

export interface Reply {
  id?: number;
  ok: boolean;
  value?: unknown;
  error?: { name: string; message: string };
}

/** The api over one socket: numbered calls, their replies, and the events pushed meanwhile. */
export class Rpc {
  private next = 1;
  private readonly pending = new Map<number, (m: Reply) => void>();
  readonly events: ApiEvent[] = [];
  readonly studyEvents: StudyEvent[] = [];
  hello: unknown = null;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as Reply & { event?: ApiEvent; studyEvent?: StudyEvent; hello?: unknown };
      if (m.event) this.events.push(m.event);
      else if (m.studyEvent) this.studyEvents.push(m.studyEvent);
      else if (m.hello) this.hello = m.hello;
      else if (m.id !== undefined) this.pending.get(m.id)?.(m);
    });
  }
  call(op: string, ...args: unknown[]): Promise<Reply> {
    return this.send((id) => JSON.stringify({ id, op, args }));
  }
  /** Sends a raw text message built around the next call id; resolves with the reply to that id. */
  send(text: (id: number) => string): Promise<Reply> {
    const id = this.next++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.ws.send(text(id));
    });
  }
  /** Resolves once run `id` reported `finished` (or fails after `timeoutMs`). */
  async finished(id: string, timeoutMs = 60_000): Promise<void> {
    const done = (): boolean => this.events.some((e) => e.runId === id && e.type === 'status' && e.status === 'finished');
    for (let waited = 0; !done(); waited += 100) {
      if (waited >= timeoutMs) throw new Error(`run ${id} did not finish within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
