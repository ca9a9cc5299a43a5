/**
 * The one window and its hardening (Electron's security checklist, ecosystem.md §3.1): a sandboxed, context-isolated
 * renderer without Node, no navigation away from the app, no new windows, no webviews, every permission denied.
 * Electron is passed in (types only here), so tests run these functions against a mock.
 */
import { pathToFileURL } from 'node:url';
import type { BrowserWindowConstructorOptions, Session, WebContents, WebPreferences } from 'electron';

export function secureWebPreferences(preload: string): WebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    spellcheck: false,
    safeDialogs: true,
  };
}

export interface WindowBounds {
  width: number;
  height: number;
  x?: number;
  y?: number;
}

export function windowOptions(preload: string, bounds: WindowBounds, dark: boolean): BrowserWindowConstructorOptions {
  return {
    ...bounds,
    minWidth: 960,
    minHeight: 600,
    show: false,
    title: 'ModeLab',
    backgroundColor: dark ? '#16181d' : '#ffffff',
    autoHideMenuBar: false,
    webPreferences: secureWebPreferences(preload),
  };
}

/**
 * Which page is the app: the built renderer's index.html (file://), or the dev server's origin under
 * `electron-vite dev`. Anything else is not trusted (no IPC, no navigation).
 */
export function appUrlMatcher(opts: { indexHtml: string; devUrl?: string }): (url: string) => boolean {
  const fileHref = pathToFileURL(opts.indexHtml).href;
  const devOrigin = opts.devUrl ? new URL(opts.devUrl).origin : null;
  return (url: string) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return false;
    }
    if (devOrigin !== null && u.origin === devOrigin) return true;
    return u.protocol === 'file:' && `${u.protocol}//${u.host}${u.pathname}` === fileHref;
  };
}

/** No navigation away from the app, no new windows, no webviews. */
export function hardenWebContents(contents: WebContents, isAppUrl: (url: string) => boolean): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

/** Every permission request (camera, notifications, …) and check is denied; no devices are offered. */
export function hardenSession(session: Session): void {
  session.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
}
