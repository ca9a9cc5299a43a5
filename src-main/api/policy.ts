/**
 * The front end's security policy, shared by the desktop shell and the server: one Content-Security-Policy (no
 * remote content of any kind; only the app's own scripts; inline styles for Vue/ECharts; images from data:/blob:
 * for chart exports; connections to the app's own origin — the server's WebSocket is same-origin).
 */
export function contentSecurityPolicy(opts: { websocketHost?: string } = {}): string {
  // 'self' covers same-origin ws: in CSP3 browsers; the explicit ws://host keeps older ones working too.
  const ws = opts.websocketHost && /^[A-Za-z0-9.[\]:-]+$/.test(opts.websocketHost) ? ` ws://${opts.websocketHost} wss://${opts.websocketHost}` : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self'${ws}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "worker-src 'self' blob:",
  ].join('; ');
}

/** Web pages the app may hand to the user's browser. None today: Help ▸ Documentation opens the README that ships
 *  with the app. Anything else a page tries to open is refused. */
export const DOCS_URLS: readonly string[] = [];

export function isAllowedExternalUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && DOCS_URLS.includes(u.href);
  } catch {
    return false;
  }
}
