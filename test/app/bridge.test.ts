/** The preload exposes one named function per operation, and never ipcRenderer. */
import { describe, expect, it, vi } from 'vitest';
import { IPC_EVENT_CHANNEL, IPC_PREFIX, IPC_STUDY_EVENT_CHANNEL, WIRE_OPS } from '../../src-main/api/wire-types';
import { buildBridge } from '../../src-main/electron/bridge';
import { IPC_MENU_CHANNEL, SHELL_OPS, SHELL_PREFIX } from '../../src-main/electron/shell-types';

function fakeIpc() {
  const listeners = new Map<string, Set<(...a: unknown[]) => void>>();
  return {
    invoke: vi.fn(async (ch: string, ...args: unknown[]) => ({ ok: true, value: { ch, args } })),
    on: vi.fn((ch: string, l: (...a: unknown[]) => void) => {
      (listeners.get(ch) ?? listeners.set(ch, new Set()).get(ch)!).add(l);
    }),
    removeListener: vi.fn((ch: string, l: (...a: unknown[]) => void) => {
      listeners.get(ch)?.delete(l);
    }),
    emit: (ch: string, ...a: unknown[]) => listeners.get(ch)?.forEach((l) => l(...a)),
    count: (ch: string) => listeners.get(ch)?.size ?? 0,
  };
}

describe('preload bridge', () => {
  it('has exactly the named operations, event subscriptions and the platform — nothing generic', () => {
    const b = buildBridge(fakeIpc() as never, 'linux') as unknown as Record<string, unknown>;
    expect(Object.keys(b).sort()).toEqual([...WIRE_OPS, ...SHELL_OPS, 'onEvent', 'onMenu', 'onStudyEvent', 'platform'].sort());
    for (const k of Object.keys(b)) if (k !== 'platform') expect(typeof b[k], k).toBe('function');
    for (const k of ['invoke', 'send', 'sendSync', 'on', 'ipcRenderer', 'postMessage']) expect(b).not.toHaveProperty(k);
    expect(Object.isFrozen(b)).toBe(true);
  });

  it('each function invokes its own fixed channel with the arguments', async () => {
    const ipc = fakeIpc();
    const b = buildBridge(ipc as never, 'linux');
    await b.getRun('abcd1234');
    expect(ipc.invoke).toHaveBeenLastCalledWith(`${IPC_PREFIX}getRun`, 'abcd1234');
    await b.listRuns({ limit: 3 });
    expect(ipc.invoke).toHaveBeenLastCalledWith(`${IPC_PREFIX}listRuns`, { limit: 3 });
    await b.saveBundle(['abcd1234']);
    expect(ipc.invoke).toHaveBeenLastCalledWith(`${SHELL_PREFIX}saveBundle`, ['abcd1234']);
  });

  it('event callbacks get the payload, never the IPC event; unsubscribing removes the listener', () => {
    const ipc = fakeIpc();
    const b = buildBridge(ipc as never, 'linux');
    const got: unknown[][] = [];
    const off = b.onEvent((...a: unknown[]) => got.push(a));
    const senderEvent = { sender: { send: () => undefined }, ports: [] };
    ipc.emit(IPC_EVENT_CHANNEL, senderEvent, { type: 'status', runId: 'x', status: 'running', error: null });
    expect(got).toEqual([[{ type: 'status', runId: 'x', status: 'running', error: null }]]);
    off();
    expect(ipc.count(IPC_EVENT_CHANNEL)).toBe(0);
    // Study events on their own channel, the same way.
    const studies: unknown[][] = [];
    const offStudies = b.onStudyEvent((...a: unknown[]) => studies.push(a));
    const cell = { type: 'study-cell', studyId: 's1', cell: { index: 0, runId: 'r1', state: 'running', error: null } };
    ipc.emit(IPC_STUDY_EVENT_CHANNEL, senderEvent, cell);
    ipc.emit(IPC_EVENT_CHANNEL, senderEvent, { type: 'status', runId: 'r1', status: 'running', error: null });
    expect(studies).toEqual([[cell]]);
    offStudies();
    expect(ipc.count(IPC_STUDY_EVENT_CHANNEL)).toBe(0);
    const menu: unknown[][] = [];
    b.onMenu((...a: unknown[]) => menu.push(a));
    ipc.emit(IPC_MENU_CHANNEL, senderEvent, 'new-experiment');
    expect(menu).toEqual([['new-experiment', undefined]]);
  });
});
