/** The window's hardening (Electron mocked: plain objects stand in for WebContents and Session). */
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { appUrlMatcher, hardenSession, hardenWebContents, secureWebPreferences, windowOptions } from '../../src-main/electron/window';

describe('window', () => {
  it('uses the secure web preferences: context isolation, sandbox, no Node, no webviews', () => {
    const p = secureWebPreferences('/app/out/preload/index.cjs');
    expect(p).toMatchObject({
      preload: '/app/out/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
    });
    expect(p).not.toHaveProperty('enableBlinkFeatures');
    const o = windowOptions('/p.cjs', { width: 1280, height: 800, x: 10, y: 20 }, true);
    expect(o).toMatchObject({ width: 1280, height: 800, x: 10, y: 20, show: false, webPreferences: { sandbox: true, contextIsolation: true, nodeIntegration: false } });
  });

  it('recognises only the app page (the built index.html, or the dev server in development)', () => {
    const index = path.resolve('/opt/modelab/out/renderer/index.html');
    const isApp = appUrlMatcher({ indexHtml: index });
    expect(isApp(pathToFileURL(index).href)).toBe(true);
    expect(isApp(`${pathToFileURL(index).href}#/run/abc?x=1`)).toBe(true);
    expect(isApp(pathToFileURL(path.resolve('/etc/passwd')).href)).toBe(false);
    expect(isApp('https://example.com/')).toBe(false);
    expect(isApp('http://localhost:5173/')).toBe(false);
    expect(isApp('not a url')).toBe(false);
    const dev = appUrlMatcher({ indexHtml: index, devUrl: 'http://localhost:5173/' });
    expect(dev('http://localhost:5173/#/history')).toBe(true);
    expect(dev('http://localhost:5174/')).toBe(false);
  });

  it('blocks navigation away from the app, new windows and webviews', () => {
    const contents = Object.assign(new EventEmitter(), { setWindowOpenHandler: vi.fn() });
    const isApp = (u: string): boolean => u.startsWith('file:///app/');
    hardenWebContents(contents as never, isApp);
    const nav = (event: string, url: string): boolean => {
      const e = { preventDefault: vi.fn() };
      contents.emit(event, e, url);
      return e.preventDefault.mock.calls.length > 0;
    };
    expect(nav('will-navigate', 'https://evil.example/')).toBe(true);
    expect(nav('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(nav('will-navigate', 'file:///app/index.html#/history')).toBe(false);
    expect(nav('will-redirect', 'https://evil.example/')).toBe(true);
    expect(nav('will-attach-webview', 'about:blank')).toBe(true);
    const handler = contents.setWindowOpenHandler.mock.calls[0]![0] as (d: { url: string }) => unknown;
    expect(handler({ url: 'https://example.com' })).toEqual({ action: 'deny' });
    expect(handler({ url: 'file:///app/index.html' })).toEqual({ action: 'deny' });
  });

  it('denies every permission request and check', () => {
    const session = { setPermissionRequestHandler: vi.fn(), setPermissionCheckHandler: vi.fn(), setDevicePermissionHandler: vi.fn() };
    hardenSession(session as never);
    const request = session.setPermissionRequestHandler.mock.calls[0]![0] as (wc: unknown, p: string, cb: (ok: boolean) => void) => void;
    for (const p of ['media', 'notifications', 'geolocation', 'clipboard-read', 'openExternal']) {
      const cb = vi.fn();
      request({}, p, cb);
      expect(cb).toHaveBeenCalledWith(false);
    }
    const check = session.setPermissionCheckHandler.mock.calls[0]![0] as (...a: unknown[]) => boolean;
    expect(check({}, 'media', 'file:///app', {})).toBe(false);
    const device = session.setDevicePermissionHandler.mock.calls[0]![0] as (...a: unknown[]) => boolean;
    expect(device({})).toBe(false);
  });
});
