/**
 * The preload's bridge: one named function per operation of the wire contract and of the shell, each a fixed
 * `ipcRenderer.invoke` on its own channel, plus event subscriptions that never hand the IPC event (and so never
 * `ipcRenderer`) to the page. Built from an injected ipcRenderer so tests can check exactly what is exposed.
 */
import type { IpcRenderer, IpcRendererEvent } from 'electron';
import { IPC_EVENT_CHANNEL, IPC_PREFIX, IPC_STUDY_EVENT_CHANNEL, WIRE_OPS } from '../api/wire-types';
import type { ApiEvent, StudyEvent } from '../api/wire-types';
import { IPC_MENU_CHANNEL, type MenuCommand, type ModelabBridge, SHELL_OPS, SHELL_PREFIX } from './shell-types';

type Invoker = Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>;

export function buildBridge(ipc: Invoker, platform: string): ModelabBridge {
  const bridge: Record<string, unknown> = {};
  for (const op of WIRE_OPS) bridge[op] = (...args: unknown[]) => ipc.invoke(`${IPC_PREFIX}${op}`, ...args);
  for (const op of SHELL_OPS) bridge[op] = (...args: unknown[]) => ipc.invoke(`${SHELL_PREFIX}${op}`, ...args);
  bridge['onEvent'] = (cb: (e: ApiEvent) => void) => {
    const listener = (_e: IpcRendererEvent, payload: ApiEvent): void => cb(payload);
    ipc.on(IPC_EVENT_CHANNEL, listener);
    return () => {
      ipc.removeListener(IPC_EVENT_CHANNEL, listener);
    };
  };
  bridge['onStudyEvent'] = (cb: (e: StudyEvent) => void) => {
    const listener = (_e: IpcRendererEvent, payload: StudyEvent): void => cb(payload);
    ipc.on(IPC_STUDY_EVENT_CHANNEL, listener);
    return () => {
      ipc.removeListener(IPC_STUDY_EVENT_CHANNEL, listener);
    };
  };
  bridge['onMenu'] = (cb: (c: MenuCommand, detail?: unknown) => void) => {
    const listener = (_e: IpcRendererEvent, command: MenuCommand, detail?: unknown): void => cb(command, detail);
    ipc.on(IPC_MENU_CHANNEL, listener);
    return () => {
      ipc.removeListener(IPC_MENU_CHANNEL, listener);
    };
  };
  bridge['platform'] = platform;
  return Object.freeze(bridge) as ModelabBridge;
}
