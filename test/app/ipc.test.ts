/**
 * The main-side IPC handlers: one per operation, each checking the sender and the arguments before it runs, and
 * answering with an {ok, value|error} envelope.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ModeLabApi } from '../../src-main/api/contract';
import { createApi } from '../../src-main/api/handlers';
import { MAX_ARGS_DEPTH, MAX_MESSAGE_BYTES } from '../../src-main/api/message-limits';
import { createWireApi } from '../../src-main/api/wire';
import { IPC_PREFIX, WIRE_OPS, type Envelope, type WireApi } from '../../src-main/api/wire-types';
import { registerIpc, trustedSender } from '../../src-main/electron/ipc';
import { SHELL_OPS, SHELL_PREFIX } from '../../src-main/electron/shell-types';
import { HistoryStore } from '../../src-main/store/history';
import { tempDir } from '../store/helpers';

type Handler = (event: unknown, ...args: unknown[]) => Promise<Envelope<unknown>> | Envelope<unknown>;

const APP = 'file:///opt/modelab/out/renderer/index.html';
const isAppUrl = (u: string): boolean => u.split('#')[0] === APP;
const good = { senderFrame: { url: `${APP}#/history`, parent: null } };

let t: ReturnType<typeof tempDir>;
let store: HistoryStore;
let api: ModeLabApi;
let wire: WireApi;
const handlers = new Map<string, Handler>();
const ipcMain = { handle: vi.fn((ch: string, h: Handler) => handlers.set(ch, h)), removeHandler: vi.fn((ch: string) => handlers.delete(ch)) };
const dialogs = { save: vi.fn(async (_o: unknown): Promise<string | null> => null), open: vi.fn(async (_o: unknown): Promise<string | null> => null) };
let dispose: () => void;

const call = (ch: string, event: unknown, ...args: unknown[]): Promise<Envelope<unknown>> => Promise.resolve(handlers.get(ch)!(event, ...args));

beforeAll(async () => {
  t = tempDir('modelab-ipc-');
  store = await HistoryStore.open({ db: path.join(t.dir, 'history.sqlite') });
  api = createApi({ store });
  wire = createWireApi({ api, store, mode: 'electron' });
  ({ dispose } = registerIpc({ ipcMain, wire, api, dialogs, isAppUrl, defaultDir: () => t.dir }));
});
afterAll(async () => {
  await api.close();
  t.cleanup();
});

describe('IPC handlers', () => {
  it('registers exactly one handler per operation of the wire contract and of the shell', () => {
    expect([...handlers.keys()].sort()).toEqual([...WIRE_OPS.map((o) => `${IPC_PREFIX}${o}`), ...SHELL_OPS.map((o) => `${SHELL_PREFIX}${o}`)].sort());
  });

  it('answers the app page with envelopes', async () => {
    expect(await call(`${IPC_PREFIX}listRuns`, good, { limit: 5 })).toMatchObject({ ok: true, value: { runs: [], total: 0, limit: 5 } });
    const info = await call(`${IPC_PREFIX}appInfo`, good);
    expect(info).toMatchObject({ ok: true, value: { mode: 'electron', historyPath: store.location.dbPath } });
    // Errors are data: a name and a message.
    expect(await call(`${IPC_PREFIX}getRun`, good, 'abcdef012345')).toMatchObject({ ok: false, error: { name: 'NotFound', message: expect.stringMatching(/no run/) } });
  });

  it('refuses other senders: another page, a subframe, no frame', async () => {
    for (const event of [
      { senderFrame: { url: 'https://evil.example/', parent: null } },
      { senderFrame: { url: 'file:///tmp/other.html', parent: null } },
      { senderFrame: { url: APP, parent: {} } },
      { senderFrame: null },
      {},
    ]) {
      expect(trustedSender(event as never, isAppUrl)).toBe(false);
      expect(await call(`${IPC_PREFIX}listRuns`, event)).toEqual({ ok: false, error: { name: 'Forbidden', message: expect.any(String) } });
      expect(await call(`${SHELL_PREFIX}saveFile`, event, { suggestedName: 'x.csv', kind: 'csv', data: 'a' })).toMatchObject({ ok: false, error: { name: 'Forbidden' } });
    }
    expect(dialogs.save).not.toHaveBeenCalled();
  });

  it('rejects invalid arguments with an ArgumentError envelope, before anything runs', async () => {
    const spy = vi.spyOn(api, 'deleteRuns');
    const bad: [string, unknown[]][] = [
      ['getRun', []],
      ['getRun', [42]],
      ['getRun', ['../../etc/passwd']],
      ['deleteRuns', ['abcd1234']],
      ['deleteRuns', [[]]],
      ['listRuns', [{ limit: 10_000 }]],
      ['listRuns', [{ status: ['exploded'] }]],
      ['listRuns', [{ sql: 'DROP TABLE runs' }]],
      ['startRun', [{}]],
      ['startRun', [{ preset: 'smoke', backend: 'quantum' }]],
      ['startRun', [{ preset: '../../secret' }]],
      ['startRun', [{ preset: 'smoke', dataDir: 'relative/path' }]],
      ['setColour', ['abcd1234', 'javascript:alert(1)']],
      ['renameRun', ['abcd1234', '   ']],
      ['tagRun', ['abcd1234', { add: ['has space'] }]],
      ['exportText', [['abcd1234'], 'bundle']],
      ['inspectDataDir', ['relative']],
      ['listRuns', [undefined, 'extra']],
    ];
    for (const [op, args] of bad) {
      const r = await call(`${IPC_PREFIX}${op}`, good, ...args);
      expect(r, `${op} ${JSON.stringify(args)}`).toMatchObject({ ok: false, error: { name: 'ArgumentError', message: expect.stringContaining(op) } });
    }
    expect(spy).not.toHaveBeenCalled();
    for (const [op, args] of [
      ['saveFile', [{ suggestedName: '../../.bashrc', kind: 'csv', data: 'x' }]],
      ['saveFile', [{ suggestedName: 'a.png', kind: 'png', data: 'not a data url' }]],
      ['saveFile', [{ suggestedName: 'a.exe', kind: 'exe', data: 'x' }]],
      ['saveBundle', [['ok1234', 'NOT-AN-ID!']]],
      ['chooseDirectory', ['/etc']],
      ['chooseWeightsFile', ['/etc/passwd']],
    ] as [string, unknown[]][]) {
      expect(await call(`${SHELL_PREFIX}${op}`, good, ...args), op).toMatchObject({ ok: false, error: { name: 'ArgumentError' } });
    }
    expect(dialogs.save).not.toHaveBeenCalled();
  });

  it("refuses arguments nested deeper or larger than the server's limits, before validation or running", async () => {
    const spy = vi.spyOn(wire, 'validateRecipe');
    let deep: unknown = 1;
    for (let k = 0; k < 10_000; k++) deep = [deep]; // the 10,000-deep recipe that once ended `modelab serve`
    const r = await call(`${IPC_PREFIX}validateRecipe`, good, { name: 'x', layers: deep });
    expect(r).toEqual({ ok: false, error: { name: 'ArgumentError', message: `validateRecipe: arguments nest deeper than ${MAX_ARGS_DEPTH} levels` } });
    // A cyclic value (structured clone allows them) ends at the depth limit too.
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(await call(`${IPC_PREFIX}validateRecipe`, good, cyclic)).toMatchObject({ ok: false, error: { message: /nest deeper than/ } });
    const big = await call(`${IPC_PREFIX}validateRecipe`, good, { name: 'x'.repeat(MAX_MESSAGE_BYTES) });
    expect(big).toEqual({ ok: false, error: { name: 'ArgumentError', message: `validateRecipe: arguments larger than ${MAX_MESSAGE_BYTES} bytes` } });
    const wide = await call(`${IPC_PREFIX}deleteRuns`, good, new Array(MAX_MESSAGE_BYTES).fill(0));
    expect(wide).toMatchObject({ ok: false, error: { message: /^deleteRuns: arguments larger than/ } });
    expect(spy).not.toHaveBeenCalled();
    // The same depth as the server allows passes the limits (and reaches validation).
    let ok: unknown = 1;
    for (let k = 0; k < MAX_ARGS_DEPTH - 2; k++) ok = [ok];
    expect(await call(`${IPC_PREFIX}validateRecipe`, good, { a: ok })).toMatchObject({ ok: true });
    expect(spy).toHaveBeenCalledTimes(1);
    expect(await call(`${IPC_PREFIX}validateRecipe`, good, { a: [ok] })).toMatchObject({ ok: false, error: { message: /nest deeper than/ } });
    expect(spy).toHaveBeenCalledTimes(1);
    // The shell's depth is limited the same way; its saveFile may carry a whole file.
    expect(await call(`${SHELL_PREFIX}saveFile`, good, { suggestedName: 'x.csv', kind: 'csv', data: 'a', extra: deep })).toMatchObject({
      ok: false,
      error: { name: 'ArgumentError', message: `saveFile: arguments nest deeper than ${MAX_ARGS_DEPTH} levels` },
    });
    expect(dialogs.save).not.toHaveBeenCalled();
    spy.mockRestore();
  });

  it('saves files where the user chooses in the native dialog (text, and PNG from a data URL)', async () => {
    const target = path.join(t.dir, 'chosen.csv');
    dialogs.save.mockResolvedValueOnce(target);
    expect(await call(`${SHELL_PREFIX}saveFile`, good, { suggestedName: 'paths.csv', kind: 'csv', data: 'run,path\n' })).toEqual({ ok: true, value: true });
    expect(dialogs.save.mock.calls[0]![0]).toMatchObject({ defaultPath: path.join(t.dir, 'paths.csv'), filters: [{ extensions: ['csv'] }] });
    expect(readFileSync(target, 'utf8')).toBe('run,path\n');
    const png = path.join(t.dir, 'chart.png');
    dialogs.save.mockResolvedValueOnce(png);
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    await call(`${SHELL_PREFIX}saveFile`, good, { suggestedName: 'chart.png', kind: 'png', data: `data:image/png;base64,${bytes.toString('base64')}` });
    expect(readFileSync(png)).toEqual(bytes);
    // Cancelled: nothing written.
    dialogs.save.mockResolvedValueOnce(null);
    expect(await call(`${SHELL_PREFIX}saveFile`, good, { suggestedName: 'x.svg', kind: 'svg', data: '<svg/>' })).toEqual({ ok: true, value: false });
    expect(existsSync(path.join(t.dir, 'x.svg'))).toBe(false);
    dialogs.open.mockResolvedValueOnce('/data/cifar');
    expect(await call(`${SHELL_PREFIX}chooseDirectory`, good)).toEqual({ ok: true, value: '/data/cifar' });
    expect(dialogs.open).toHaveBeenLastCalledWith({ directory: true });
    // An endpoint's weights file: a file (not a folder), safetensors or a TensorFlow.js model.json.
    dialogs.open.mockResolvedValueOnce('/nets/a.safetensors');
    expect(await call(`${SHELL_PREFIX}chooseWeightsFile`, good)).toEqual({ ok: true, value: '/nets/a.safetensors' });
    expect(dialogs.open).toHaveBeenLastCalledWith({ directory: false, filters: [{ name: expect.any(String), extensions: ['safetensors', 'json'] }] });
  });

  it('removes every handler on dispose', () => {
    dispose();
    expect(handlers.size).toBe(0);
    expect(ipcMain.removeHandler).toHaveBeenCalledTimes(WIRE_OPS.length + SHELL_OPS.length);
  });
});
