/** The preload script itself, with Electron mocked: it exposes one object of functions under one name. */
import { describe, expect, it, vi } from 'vitest';

const exposed: [string, unknown][] = [];
vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (name: string, api: unknown) => exposed.push([name, api]) },
  ipcRenderer: { invoke: vi.fn(), on: vi.fn(), removeListener: vi.fn(), send: vi.fn(), sendSync: vi.fn() },
}));

describe('preload', () => {
  it('exposes window.modelab: named functions only', async () => {
    await import('../../src-main/electron/preload');
    expect(exposed).toHaveLength(1);
    const [name, api] = exposed[0]!;
    expect(name).toBe('modelab');
    const obj = api as Record<string, unknown>;
    for (const [k, v] of Object.entries(obj)) expect(k === 'platform' ? typeof v === 'string' : typeof v === 'function', k).toBe(true);
    expect(Object.values(obj)).not.toContain(expect.objectContaining({ invoke: expect.anything() }));
    expect(obj).not.toHaveProperty('ipcRenderer');
  });
});
