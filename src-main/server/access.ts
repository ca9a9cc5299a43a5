/**
 * Who may talk to `modelab serve`: the access token (always required, loopback included — another account on the same
 * machine can reach loopback too), the Host rule against DNS rebinding, and the same-origin rule for the api.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';

/** The cookie the token becomes once the page was opened with `?token=`. */
export const TOKEN_COOKIE = 'modelab_token';
/** The environment variable `modelab serve` takes its token from when `--token` is not given. */
export const TOKEN_ENV = 'MODELAB_TOKEN';
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,200}$/;
/** Why a given token was refused (CLI and server say the same). */
export const TOKEN_RULE = 'a token needs 16 to 200 letters, digits, _ or -';

export function isValidToken(token: string): boolean {
  return TOKEN_PATTERN.test(token);
}

/** 32 url-safe characters (192 random bits). */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
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

/** Bound to loopback, the Host header must name loopback too: a web page cannot reach the api by DNS rebinding. */
export function hostAllowed(req: http.IncomingMessage, boundToLoopback: boolean): boolean {
  if (!boundToLoopback) return true;
  const h = hostName(req.headers.host);
  return h !== null && isLoopbackHost(h);
}

/**
 * Only the app's own pages may call the api: a browser marks a request from another site (`Sec-Fetch-Site:
 * cross-site`, or `same-site` — another port on this host is the same site) and names its Origin. Requests without
 * these headers (scripts, curl) still need the token.
 */
export function sameOrigin(req: http.IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** Timing-safe: neither how much of a wrong token matched nor the token's length is measurable (digests of equal
 *  length are compared in constant time). */
export function sameToken(given: string | undefined | null, token: string): boolean {
  if (!given) return false;
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(token));
}

function cookieValue(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) {
      try {
        return decodeURIComponent(v.join('='));
      } catch {
        return null;
      }
    }
  }
  return null;
}

/** The token a request carries: its cookie, `?token=`, or `Authorization: Bearer` (for scripts). */
export function carriesToken(req: http.IncomingMessage, url: URL, token: string): boolean {
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  return sameToken(cookieValue(req.headers.cookie, TOKEN_COOKIE), token) || sameToken(url.searchParams.get('token'), token) || sameToken(bearer, token);
}

export function tokenCookie(token: string): string {
  return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
}
