import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_STATE, loadWindowState, saveWindowState } from '../../src-main/electron/window-state';
import { tempDir } from '../store/helpers';

const t = tempDir('modelab-winstate-');
afterAll(() => t.cleanup());
const display = [{ x: 0, y: 0, width: 1920, height: 1080 }];

describe('window state', () => {
  it('round-trips size, position and maximised', () => {
    const f = path.join(t.dir, 'ws.json');
    saveWindowState(f, { width: 1400, height: 900, x: 100, y: 50, maximized: true });
    expect(loadWindowState(f, display)).toEqual({ width: 1400, height: 900, x: 100, y: 50, maximized: true });
    expect(JSON.parse(readFileSync(f, 'utf8'))).toMatchObject({ width: 1400 });
  });

  it('falls back to the default for a missing or malformed file, and drops positions off every display', () => {
    expect(loadWindowState(path.join(t.dir, 'none.json'), display)).toEqual(DEFAULT_STATE);
    const f = path.join(t.dir, 'bad.json');
    writeFileSync(f, '{not json');
    expect(loadWindowState(f, display)).toEqual(DEFAULT_STATE);
    writeFileSync(f, JSON.stringify({ width: 'wide', height: 900 }));
    expect(loadWindowState(f, display)).toEqual(DEFAULT_STATE);
    writeFileSync(f, JSON.stringify({ width: 1000, height: 700, x: 5000, y: 5000 }));
    expect(loadWindowState(f, display)).toEqual({ width: 1000, height: 700, maximized: false });
  });
});
