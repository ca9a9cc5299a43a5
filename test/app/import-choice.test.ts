/**
 * The app's import of a bundle whose run is already in the history (issue 12): the shell's answer carries code
 * RUN_EXISTS, and the renderer's second call with the user's choice imports the same bundle (skipping the run, or
 * copying it) without naming a path or opening the file dialog again.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ModeLabApi } from '../../src-main/api/contract';
import { createApi } from '../../src-main/api/handlers';
import { createWireApi } from '../../src-main/api/wire';
import type { Envelope } from '../../src-main/api/wire-types';
import { registerIpc } from '../../src-main/electron/ipc';
import { SHELL_PREFIX } from '../../src-main/electron/shell-types';
import { exportBundles } from '../../src-main/store/bundle';
import { HistoryStore } from '../../src-main/store/history';
import { syntheticRun, tempDir } from '../store/helpers';

type Handler = (event: unknown, ...args: unknown[]) => Promise<Envelope<unknown>>;

const APP = 'file:///opt/modelab/out/renderer/index.html';
const sender = { senderFrame: { url: APP, parent: null } };
const handlers = new Map<string, Handler>();
const ipcMain = { handle: vi.fn((ch: string, h: Handler) => handlers.set(ch, h)), removeHandler: vi.fn((ch: string) => handlers.delete(ch)) };
const dialogs = { save: vi.fn(async (): Promise<string | null> => null), open: vi.fn(async (): Promise<string | null> => null) };
const imported: string[][] = [];

let t: ReturnType<typeof tempDir>;
let store: HistoryStore;
let api: ModeLabApi;

const importBundle = (...args: unknown[]): Promise<Envelope<unknown>> => handlers.get(`${SHELL_PREFIX}importBundle`)!(sender, ...args);

beforeAll(async () => {
  t = tempDir('modelab-import-choice-');
  store = await HistoryStore.open({ db: path.join(t.dir, 'history.sqlite') });
  api = createApi({ store });
  const wire = createWireApi({ api, store, mode: 'electron' });
  registerIpc({ ipcMain, wire, api, dialogs, isAppUrl: (u) => u === APP, defaultDir: () => t.dir, onImported: (ids) => imported.push(ids) });
});
afterAll(async () => {
  await api.close();
  t.cleanup();
});

describe('importing a bundle the history already has, from the app', () => {
  it('answers RUN_EXISTS, then skips or copies the same bundle when called with the choice', async () => {
    const id = await syntheticRun(store, { name: 'twice' });
    const zip = path.join(t.dir, 'twice.zip');
    await exportBundles(store, [id], zip);
    dialogs.open.mockResolvedValueOnce(zip);

    const refused = await importBundle();
    expect(refused).toMatchObject({ ok: false, error: { code: 'RUN_EXISTS', message: expect.stringMatching(new RegExp(`run ${id} \\('twice'\\) is already in the history`)) } });
    expect(dialogs.open).toHaveBeenCalledTimes(1);

    expect(await importBundle('skip')).toEqual({ ok: true, value: { ids: [], skipped: [id], warnings: [] } });
    // The choice was used: a second one needs a new pick.
    expect(await importBundle('copy')).toMatchObject({ ok: false, error: { message: expect.stringMatching(/no bundle is waiting for that choice/) } });

    dialogs.open.mockResolvedValueOnce(zip);
    expect(await importBundle()).toMatchObject({ ok: false, error: { code: 'RUN_EXISTS' } });
    const copied = (await importBundle('copy')) as Envelope<{ ids: string[] }>;
    expect(copied.ok).toBe(true);
    const copyId = copied.ok ? copied.value.ids[0]! : '';
    expect(copyId).not.toBe(id);
    expect((await store.summary(copyId)).name).toBe('twice (copy)');
    expect(imported.at(-1)).toEqual([copyId]);
    expect(dialogs.open).toHaveBeenCalledTimes(2);
  });

  it('takes only skip or copy as the choice', async () => {
    for (const bad of ['refuse', 'overwrite', 1]) {
      expect(await importBundle(bad)).toMatchObject({ ok: false, error: { name: 'ArgumentError' } });
    }
  });
});
