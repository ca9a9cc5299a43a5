/** End-to-end helpers: a real `modelab serve --port 0` child process, and Debian's Chromium driven by playwright-core. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const CHROMIUM = process.env['MODELAB_CHROMIUM'] ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];

export interface Served {
  /** The server's base URL (http://127.0.0.1:PORT/), without the token. */
  url: string;
  /** The URL `modelab serve` printed: `url` with `?token=`. Opening it once gives a browser context the cookie. */
  openUrl: string;
  token: string;
  home: string;
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

/** Starts `modelab serve --port 0` with its own history; resolves with the URL (and token) it prints. */
export function serve(args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Served> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'modelab-e2e-home-'));
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/modelab.mjs'), 'serve', '--port', '0', ...args], {
    cwd: ROOT,
    env: { ...process.env, MODELAB_HOME: home, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(home, { recursive: true, force: true });
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`modelab serve did not start:\n${out}`)), 60_000);
    const check = (): void => {
      const m = /is serving on (http:\/\/\S+)/.exec(out);
      if (m && out.includes('Ctrl-C stops.')) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        const openUrl = new URL(m[1]!);
        const token = openUrl.searchParams.get('token') ?? '';
        resolve({ url: `${openUrl.origin}/`, openUrl: openUrl.href, token, home, child, output: () => out, stop });
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`modelab serve exited with ${code}:\n${out}`));
    });
  });
}

/** Debian's Chromium (or MODELAB_CHROMIUM). Missing, the end-to-end tests fail with how to install it: they are part
 *  of the suite, never skipped (.ci/run installs it). */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set MODELAB_CHROMIUM to a Chromium binary`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** Opens the URL `modelab serve` printed in the page's browser context, as a user does: the token becomes its cookie,
 *  and every later page of that context (`${server.url}#/history`, …) is let in. */
export async function signIn(page: Page, server: Served): Promise<void> {
  await page.goto(server.openUrl);
}

/** One call to the server's WebSocket api (as a script makes it: the token as a Bearer header). */
export async function wsCall<T = unknown>(server: Pick<Served, 'url' | 'token'>, op: string, args: unknown[] = []): Promise<{ ok: true; value: T } | { ok: false; error: { name: string; message: string } }> {
  const { default: WebSocket } = await import('ws');
  const u = new URL(server.url);
  const ws = new WebSocket(`ws://${u.host}/ws`, { headers: { Authorization: `Bearer ${server.token}` } });
  try {
    return await new Promise((resolve, reject) => {
      ws.on('error', reject);
      ws.on('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.on('open', () => ws.send(JSON.stringify({ id: 1, op, args })));
      ws.on('message', (data) => {
        const m = JSON.parse(data.toString()) as { id?: number };
        if (m.id === 1) resolve(m as never);
      });
    });
  } finally {
    ws.terminate();
  }
}
