/**
 * The desktop app's main process: one secure window (window.ts), the wire api over IPC (ipc.ts), experiments in
 * Electron utility processes through the job runner, native menus, a single instance, and the window's size and
 * position remembered. The science runs in the job processes; this process only orchestrates, reads and writes the
 * history, and bridges events to the window.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BrowserWindow, Menu, app, dialog, ipcMain, nativeTheme, screen, session, shell, utilityProcess } from 'electron';
import { throttleEvents } from '../api/events';
import { createApi, openHistory } from '../api/handlers';
import { createWireApi } from '../api/wire';
import { IPC_EVENT_CHANNEL, IPC_STUDY_EVENT_CHANNEL } from '../api/wire-types';
import type { ModeLabApi } from '../api/contract';
import { setPresetsDir } from '../engine/recipe/presets';
import { VERSION } from '../engine/version';
import { desktopRunnerOptions } from './job-options';
import { registerIpc } from './ipc';
import { menuTemplate } from './menu';
import { IPC_MENU_CHANNEL, type ImportChoice, type MenuCommand } from './shell-types';
import { appUrlMatcher, hardenSession, hardenWebContents, windowOptions } from './window';
import { loadWindowState, saveWindowState } from './window-state';

const devUrl = process.env['ELECTRON_RENDERER_URL'];
const isDev = !app.isPackaged && !!devUrl;
const indexHtml = join(import.meta.dirname, '../renderer/index.html');
const isAppUrl = appUrlMatcher({ indexHtml, devUrl: isDev ? devUrl : undefined });

let win: BrowserWindow | null = null;
let api: ModeLabApi | null = null;
let importBundle: () => void = () => undefined;

if (!app.requestSingleInstanceLock()) {
  // Another ModeLab is running (it owns the history's jobs): bring it forward instead.
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!win) return;
    if (win.isMinimized()) win.restore();
    win.focus();
  });
  // Any web contents created later (there should be none) gets the same rules.
  app.on('web-contents-created', (_e, contents) => hardenWebContents(contents, isAppUrl));
  void app.whenReady().then(start);
}

function send(channel: string, ...args: unknown[]): void {
  if (win && !win.isDestroyed()) win.webContents.send(channel, ...args);
}

async function start(): Promise<void> {
  hardenSession(session.defaultSession);
  setPresetsDir(join(app.getAppPath(), 'resources', 'presets'));

  const store = await openHistory({ db: process.env['MODELAB_DB'] });
  api = createApi({
    store,
    // Jobs in utility processes; their training processes and point worker started here too (a utility process
    // cannot start more), all built beside this file: the same parallelism as `modelab run`.
    runnerOptions: desktopRunnerOptions(utilityProcess, import.meta.dirname),
  });
  const wire = createWireApi({ api, store, mode: 'electron' });
  const events = throttleEvents((e) => send(IPC_EVENT_CHANNEL, e));
  api.subscribe((e) => events.push(e));
  // A study's events are few (a cell's change, its progress once a second): unthrottled.
  api.subscribeStudies((e) => send(IPC_STUDY_EVENT_CHANNEL, e));

  const { shell: appShell } = registerIpc({
    ipcMain,
    wire,
    api,
    isAppUrl,
    defaultDir: () => app.getPath('documents'),
    onImported: (ids) => send(IPC_MENU_CHANNEL, 'imported' satisfies MenuCommand, ids),
    dialogs: {
      async save(opts) {
        const r = win ? await dialog.showSaveDialog(win, opts) : await dialog.showSaveDialog(opts);
        return r.canceled || !r.filePath ? null : r.filePath;
      },
      async open(opts) {
        const properties: ('openDirectory' | 'openFile' | 'createDirectory')[] = opts.directory ? ['openDirectory', 'createDirectory'] : ['openFile'];
        const o = { properties, ...(opts.filters ? { filters: opts.filters } : {}) };
        const r = win ? await dialog.showOpenDialog(win, o) : await dialog.showOpenDialog(o);
        return r.canceled ? null : (r.filePaths[0] ?? null);
      },
    },
  });

  // Import Bundle… from the menu: runs the history already has make it ask whether to skip or copy them.
  const importFromMenu = async (choice?: ImportChoice): Promise<void> => {
    try {
      await appShell.importBundle(choice);
    } catch (e) {
      const message = (e as Error).message;
      if ((e as { code?: unknown }).code !== 'RUN_EXISTS' || choice) return dialog.showErrorBox('Import failed', message);
      const o = { type: 'question' as const, message: 'Already in the history', detail: message, buttons: ['Skip them', 'Import as a copy', 'Cancel'], defaultId: 0, cancelId: 2 };
      const { response } = win ? await dialog.showMessageBox(win, o) : await dialog.showMessageBox(o);
      if (response < 2) await importFromMenu(response === 0 ? 'skip' : 'copy');
    }
  };
  importBundle = () => void importFromMenu();
  buildMenu();
  nativeTheme.on('updated', buildMenu);
  createWindow();
}

function buildMenu(): void {
  const template = menuTemplate(
    {
      command: (c) => send(IPC_MENU_CHANNEL, c),
      importBundle: () => importBundle(),
      setTheme: (t) => {
        nativeTheme.themeSource = t;
        buildMenu();
      },
      openDocs: () => {
        // The README ships unpacked (electron-builder.yml), so the system's viewer can read it.
        const readme = join(app.getAppPath().replace(/app\.asar$/, 'app.asar.unpacked'), 'README.md');
        if (existsSync(readme)) void shell.openPath(readme);
      },
      about: () =>
        void dialog.showMessageBox({
          type: 'info',
          title: 'About ModeLab',
          message: `ModeLab ${VERSION}`,
          detail: `A laboratory for mode connectivity.\nElectron ${process.versions.electron}, Node ${process.versions.node}, Chromium ${process.versions.chrome}.`,
        }),
      quit: () => app.quit(),
    },
    { isDev, platform: process.platform, theme: nativeTheme.themeSource },
  );
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

function createWindow(): void {
  const stateFile = join(app.getPath('userData'), 'window-state.json');
  const state = loadWindowState(
    stateFile,
    screen.getAllDisplays().map((d) => d.workArea),
  );
  win = new BrowserWindow(windowOptions(join(import.meta.dirname, '../preload/index.cjs'), state, nativeTheme.shouldUseDarkColors));
  if (state.maximized) win.maximize();
  win.once('ready-to-show', () => win?.show());
  win.webContents.on('render-process-gone', () => {
    // The renderer crashed: start it again (the history and jobs live here, nothing is lost).
    if (win && !win.isDestroyed()) void load(win);
  });
  win.on('close', () => {
    if (!win) return;
    saveWindowState(stateFile, { ...win.getNormalBounds(), maximized: win.isMaximized() });
  });
  win.on('closed', () => {
    win = null;
  });
  void load(win);
}

function load(w: BrowserWindow): Promise<void> {
  return isDev && devUrl ? w.loadURL(devUrl) : w.loadFile(indexHtml);
}

app.on('window-all-closed', () => app.quit());
let closing = false;
app.on('before-quit', (event) => {
  if (closing || !api) return;
  // Cancel running experiments (their runs are marked cancelled) and close the history before leaving.
  event.preventDefault();
  closing = true;
  void api.close().finally(() => app.quit());
});
