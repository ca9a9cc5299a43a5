import { contextBridge } from 'electron';

contextBridge.exposeInMainWorld('modelab', { platform: process.platform });
