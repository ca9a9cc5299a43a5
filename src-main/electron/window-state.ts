/** Remembers the window's size and position between launches (a small JSON file in the app's userData folder). */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../engine/io/atomic';

export interface WindowState {
  width: number;
  height: number;
  x?: number;
  y?: number;
  maximized?: boolean;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export const DEFAULT_STATE: WindowState = { width: 1280, height: 800 };

const int = (v: unknown, lo: number, hi: number): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi ? Math.round(v) : undefined;

/**
 * Reads the saved state; anything missing, malformed or off every display falls back to the default size, centred
 * by the window manager.
 */
export function loadWindowState(file: string, displays: Rect[]): WindowState {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return { ...DEFAULT_STATE };
  }
  const width = int(raw['width'], 400, 16384);
  const height = int(raw['height'], 300, 16384);
  if (width === undefined || height === undefined) return { ...DEFAULT_STATE };
  const state: WindowState = { width, height, maximized: raw['maximized'] === true };
  const x = int(raw['x'], -32768, 32768);
  const y = int(raw['y'], -32768, 32768);
  if (x !== undefined && y !== undefined) {
    // Keep the position only if at least 100×50 px of the window's top lands on a display.
    const visible = displays.some((d) => x + width - 100 >= d.x && x + 100 <= d.x + d.width && y >= d.y - 10 && y + 50 <= d.y + d.height);
    if (visible) Object.assign(state, { x, y });
  }
  return state;
}

export function saveWindowState(file: string, state: WindowState): void {
  try {
    writeFileAtomic(file, `${JSON.stringify(state)}\n`);
  } catch {
    // Not worth failing a quit over.
  }
}
