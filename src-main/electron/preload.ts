// Sandboxed preload (bundled whole: it cannot require packages). Exposes `window.modelab`: one function per api
// operation, never ipcRenderer itself.
import { contextBridge, ipcRenderer } from 'electron';
import { buildBridge } from './bridge';

contextBridge.exposeInMainWorld('modelab', buildBridge(ipcRenderer, process.platform));
