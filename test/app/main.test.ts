/**
 * The desktop main process with Electron mocked: single-instance lock, the secure window, hardened session, native
 * menu, IPC handlers that check the sender, remembered window size, and an experiment run through the job runner in
 * a "utility process" — here the fake utilityProcess.fork starts the BUILT job worker (out/main/worker.cjs, what the
 * app ships) with child_process.fork, so the launcher, the bundled worker and the event bridge are all exercised.
 */
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { IPC_EVENT_CHANNEL, IPC_PREFIX, IPC_STUDY_EVENT_CHANNEL, WIRE_OPS } from '../../src-main/api/wire-types';
import type { StudyEvent } from '../../src-main/api/wire-types';
import { IPC_MENU_CHANNEL } from '../../src-main/electron/shell-types';
import { tempDir } from '../store/helpers';
import { tinyRecipe } from '../jobs/recipes';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BUILT_WORKER = path.join(ROOT, 'out/main/worker.cjs');
const t = tempDir('modelab-electron-main-');
process.env['MODELAB_DB'] = path.join(t.dir, 'history.sqlite');

const m = vi.hoisted(() => {
  const windows: unknown[] = [];
  const handlers = new Map<string, (event: unknown, ...a: unknown[]) => unknown>();
  const appEvents = new Map<string, (...a: unknown[]) => unknown>();
  const sent: unknown[][] = [];
  const forks: { modulePath: string; options: { env?: NodeJS.ProcessEnv; serviceName?: string } }[] = [];
  const posted: { modulePath: string; msg: unknown }[] = [];
  return { windows, handlers, appEvents, sent, forks, posted, menu: null as unknown, permissionHandler: null as unknown, userData: '' };
});

vi.mock('electron', async () => {
  const { EventEmitter } = await import('node:events');
  const { fork } = await import('node:child_process');
  const path = await import('node:path');
  class BrowserWindow extends EventEmitter {
    options: unknown;
    webContents = Object.assign(new EventEmitter(), {
      send: (...a: unknown[]) => m.sent.push(a),
      setWindowOpenHandler: vi.fn(),
    });
    loadFile = vi.fn(async () => undefined);
    loadURL = vi.fn(async () => undefined);
    constructor(options: unknown) {
      super();
      this.options = options;
      m.windows.push(this);
    }
    isDestroyed = () => false;
    isMinimized = () => false;
    isMaximized = () => false;
    maximize = vi.fn();
    show = vi.fn();
    focus = vi.fn();
    restore = vi.fn();
    getNormalBounds = () => ({ x: 40, y: 30, width: 1333, height: 777 });
  }
  return {
    app: {
      isPackaged: false,
      requestSingleInstanceLock: vi.fn(() => true),
      on: vi.fn((e: string, f: (...a: unknown[]) => unknown) => m.appEvents.set(e, f)),
      whenReady: () => Promise.resolve(),
      getAppPath: () => ROOT,
      getPath: (n: string) => (n === 'userData' ? m.userData : '/tmp'),
      quit: vi.fn(),
    },
    BrowserWindow,
    Menu: { buildFromTemplate: (tpl: unknown) => tpl, setApplicationMenu: (menu: unknown) => (m.menu = menu) },
    dialog: { showSaveDialog: vi.fn(), showOpenDialog: vi.fn(), showMessageBox: vi.fn(), showErrorBox: vi.fn() },
    ipcMain: { handle: (ch: string, h: (event: unknown, ...a: unknown[]) => unknown) => m.handlers.set(ch, h), removeHandler: (ch: string) => m.handlers.delete(ch) },
    nativeTheme: { shouldUseDarkColors: false, themeSource: 'system', on: vi.fn() },
    screen: { getAllDisplays: () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }] },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (h: unknown) => (m.permissionHandler = h),
        setPermissionCheckHandler: vi.fn(),
        setDevicePermissionHandler: vi.fn(),
      },
    },
    shell: { openPath: vi.fn(), openExternal: vi.fn() },
    utilityProcess: {
      fork: (modulePath: string, _args: string[], options: { env?: NodeJS.ProcessEnv; serviceName?: string }) => {
        m.forks.push({ modulePath, options });
        // What Electron would run: the bundled module of that name beside index.js (the job worker, or a helper main
        // starts for it: train-worker.cjs, point-worker.cjs).
        const child = fork(path.resolve(import.meta.dirname, '../../out/main', path.basename(modulePath)), [], { env: options.env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
        return {
          get pid() {
            return child.pid;
          },
          postMessage: (msg: unknown) => {
            m.posted.push({ modulePath, msg });
            if (child.connected) child.send(msg as object);
          },
          on: (event: string, cb: (x: unknown) => void) => (event === 'exit' ? child.on('exit', (code) => cb(code)) : child.on('message', cb)),
          kill: () => child.kill(),
        };
      },
    },
  };
});

m.userData = t.dir;
afterAll(() => t.cleanup());

async function until<T>(f: () => T | undefined, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

type Win = EventEmitter & { options: Record<string, unknown>; loadFile: ReturnType<typeof vi.fn>; webContents: EventEmitter & { setWindowOpenHandler: ReturnType<typeof vi.fn> } };
type MenuItem = { label?: string; role?: string; submenu?: MenuItem[]; click?: () => void };

describe('Electron main process (mocked Electron)', () => {
  let win: Win;
  const indexHtml = path.resolve(ROOT, 'src-main/renderer/index.html');
  const appEvent = { senderFrame: { url: `${pathToFileURL(indexHtml).href}#/history`, parent: null } };

  it('takes the single-instance lock and opens one secure window on the built renderer', async () => {
    await import('../../src-main/electron/main');
    const { app } = await import('electron');
    expect(app.requestSingleInstanceLock).toHaveBeenCalled();
    win = (await until(() => m.windows[0])) as Win;
    expect(win.options).toMatchObject({
      width: 1280,
      height: 800,
      show: false,
      webPreferences: { contextIsolation: true, sandbox: true, nodeIntegration: false, webviewTag: false, webSecurity: true },
    });
    expect((win.options['webPreferences'] as { preload: string }).preload).toMatch(/preload[\\/]index\.cjs$/);
    expect(win.loadFile).toHaveBeenCalledWith(indexHtml);
    const cb = vi.fn();
    (m.permissionHandler as (w: unknown, p: string, c: (ok: boolean) => void) => void)({}, 'media', cb);
    expect(cb).toHaveBeenCalledWith(false);
    expect(m.appEvents.has('second-instance')).toBe(true);
    expect(m.appEvents.has('web-contents-created')).toBe(true);
  });

  it('hardens every web contents the app creates', () => {
    const contents = Object.assign(new EventEmitter(), { setWindowOpenHandler: vi.fn() });
    m.appEvents.get('web-contents-created')!({}, contents);
    const e = { preventDefault: vi.fn() };
    contents.emit('will-navigate', e, 'https://example.com/');
    expect(e.preventDefault).toHaveBeenCalled();
    expect((contents.setWindowOpenHandler.mock.calls[0]![0] as () => unknown)()).toEqual({ action: 'deny' });
  });

  it('registers an IPC handler per operation that answers the app page and refuses any other', async () => {
    for (const op of WIRE_OPS) expect(m.handlers.has(`${IPC_PREFIX}${op}`), op).toBe(true);
    expect(await m.handlers.get(`${IPC_PREFIX}listRuns`)!(appEvent, {})).toMatchObject({ ok: true, value: { total: 0 } });
    expect(await m.handlers.get(`${IPC_PREFIX}listRuns`)!({ senderFrame: { url: 'https://evil.example/', parent: null } }, {})).toMatchObject({ ok: false, error: { name: 'Forbidden' } });
    expect(await m.handlers.get(`${IPC_PREFIX}getRun`)!(appEvent, { not: 'an id' })).toMatchObject({ ok: false, error: { name: 'ArgumentError' } });
    const presets = (await m.handlers.get(`${IPC_PREFIX}presets`)!(appEvent)) as { ok: true; value: { name: string }[] };
    expect(presets.value.map((p) => p.name)).toContain('smoke');
  });

  it('has native menus: File (new, import, export, quit), View without reload outside development, Help', async () => {
    const menu = m.menu as MenuItem[];
    const labels = menu.map((i) => i.label ?? i.role);
    expect(labels).toEqual(expect.arrayContaining(['File', 'Edit', 'View', 'help']));
    const file = menu.find((i) => i.label === 'File')!.submenu!.map((i) => i.label ?? i.role);
    expect(file).toEqual(expect.arrayContaining(['New Experiment…', 'Import Bundle…', 'Export…']));
    expect(file.some((l) => l === 'Quit' || l === 'close')).toBe(true);
    const view = menu.find((i) => i.label === 'View')!.submenu!;
    expect(view.some((i) => i.role === 'reload' || i.role === 'toggleDevTools')).toBe(false);
    menu.find((i) => i.label === 'File')!.submenu!.find((i) => i.label === 'New Experiment…')!.click!();
    expect(m.sent).toContainEqual([IPC_MENU_CHANNEL, 'new-experiment']);
  });

  it('runs an experiment in a utility process (the built job worker) and streams its events to the window', async () => {
    expect(existsSync(BUILT_WORKER)).toBe(true);
    const r = (await m.handlers.get(`${IPC_PREFIX}startRun`)!(appEvent, { recipe: tinyRecipe('from the app'), name: 'app run', backend: 'wasm' })) as { ok: true; value: { id: string } };
    expect(r.ok).toBe(true);
    const id = r.value.id;
    const done = await until(() => m.sent.find((s) => s[0] === IPC_EVENT_CHANNEL && (s[1] as { type: string; runId: string; status?: string }).runId === id && (s[1] as { status?: string }).status === 'finished'), 90_000);
    expect(done).toBeDefined();
    expect(m.forks[0]!.modulePath).toMatch(/[\\/]worker\.cjs$/);
    expect(m.forks[0]!.options).toMatchObject({ serviceName: 'ModeLab job' });
    const events = m.sent.filter((s) => s[0] === IPC_EVENT_CHANNEL).map((s) => s[1] as { type: string; event?: { kind: string } });
    expect([...new Set(events.map((e) => e.type))]).toEqual(['status', 'run']);
    // A run's progress and results arrive as run events: its plan, progress, curve points, endpoints and paths.
    const kinds = new Set(events.filter((e) => e.type === 'run').map((e) => e.event!.kind));
    expect([...kinds]).toEqual(expect.arrayContaining(['plan', 'progress', 'curve', 'endpoint', 'path', 'done']));
    const detail = (await m.handlers.get(`${IPC_PREFIX}getRun`)!(appEvent, id)) as { ok: true; value: { status: string; paths: { name: string }[] } };
    expect(detail.value.status).toBe('finished');
    expect(detail.value.paths.map((p) => p.name)).toEqual(['linear', 'theorem1']);
  });

  it('trains endpoints in parallel and shares path points as the CLI does: main starts the helper utility processes', async () => {
    process.env['MODELAB_PARALLEL_ENDPOINTS'] = '1';
    process.env['MODELAB_PARALLEL_POINTS'] = '1';
    const before = m.forks.length;
    try {
      const r = (await m.handlers.get(`${IPC_PREFIX}startRun`)!(appEvent, { recipe: tinyRecipe('in parallel'), name: 'parallel app run', backend: 'wasm' })) as { ok: true; value: { id: string } };
      const id = r.value.id;
      await until(() => m.sent.find((s) => s[0] === IPC_EVENT_CHANNEL && (s[1] as { runId: string; status?: string }).runId === id && (s[1] as { status?: string }).status === 'finished'), 120_000);
      const forks = m.forks.slice(before);
      // The job, one training process per endpoint and the point worker: all started by main (no job process can).
      expect(forks.map((f) => path.basename(f.modulePath)).sort()).toEqual(['point-worker.cjs', 'train-worker.cjs', 'train-worker.cjs', 'worker.cjs']);
      for (const f of forks) expect(f.options.env?.['MODELAB_PARALLEL_ENDPOINTS'], f.modulePath).toBe('1');
      // Each helper is told its share of the cores (jobs/parallelism.ts): two trainings at once, or job + point worker.
      const { threadsPerProcess } = await import('../../src-main/jobs/parallelism');
      for (const f of forks.filter((f) => path.basename(f.modulePath) !== 'worker.cjs')) {
        expect(f.options.env?.['MODELAB_THREADS_PER_PROCESS'], f.modulePath).toBe(String(threadsPerProcess(2)));
      }
      // The job is configured exactly as a CLI-started one (JobRunner defaults): parallelism decided in the job.
      const start = m.posted.find((p) => path.basename(p.modulePath) === 'worker.cjs' && (p.msg as { type: string; job?: { runId: string } }).job?.runId === id);
      expect((start!.msg as { job: object }).job).toMatchObject({ parallelEndpoints: 'auto', parallelPoints: 'auto' });
      const detail = (await m.handlers.get(`${IPC_PREFIX}getRun`)!(appEvent, id)) as { ok: true; value: { status: string; endpoints: unknown[]; paths: unknown[] } };
      expect(detail.value).toMatchObject({ status: 'finished' });
      expect(detail.value.endpoints).toHaveLength(2);
      expect(detail.value.paths).toHaveLength(2);
    } finally {
      delete process.env['MODELAB_PARALLEL_ENDPOINTS'];
      delete process.env['MODELAB_PARALLEL_POINTS'];
    }
  });

  it("sends a study's events to the window on their own channel while it runs: its start, its cells' runs, its end", async () => {
    const r = (await m.handlers.get(`${IPC_PREFIX}startStudy`)!(appEvent, { preset: 'smoke-study', quick: true, jobs: 1, backend: 'wasm' })) as { ok: true; value: { id: string } };
    expect(r.ok).toBe(true);
    const id = r.value.id;
    const mine = (): StudyEvent[] => m.sent.filter((s) => s[0] === IPC_STUDY_EVENT_CHANNEL).map((s) => s[1] as StudyEvent).filter((e) => e.studyId === id);
    const end = await until(() => mine().find((e) => e.type === 'study-status' && e.status !== 'running'), 240_000);
    expect(end).toEqual({ type: 'study-status', studyId: id, status: 'finished' });
    const events = mine();
    expect(events[0]).toEqual({ type: 'study-status', studyId: id, status: 'running' });
    const finished = events.flatMap((e) => (e.type === 'study-cell' && e.cell.state === 'finished' ? [e.cell] : []));
    expect(finished.map((c) => c.index)).toEqual([0, 1]);
    const doc = (await m.handlers.get(`${IPC_PREFIX}getStudy`)!(appEvent, id)) as { ok: true; value: { cells: { runId: string }[] } };
    expect(finished.map((c) => c.runId)).toEqual(doc.value.cells.map((c) => c.runId));
    expect(events.some((e) => e.type === 'study' && e.progress.counts.finished === 2)).toBe(true);
    // Study events never go out on the run events' channel.
    expect(m.sent.some((s) => s[0] === IPC_EVENT_CHANNEL && (s[1] as { studyId?: string }).studyId !== undefined)).toBe(false);
  }, 300_000);

  it('remembers the window size and position, and closes the history before quitting', async () => {
    win.emit('close');
    expect(JSON.parse(readFileSync(path.join(t.dir, 'window-state.json'), 'utf8'))).toEqual({ x: 40, y: 30, width: 1333, height: 777, maximized: false });
    const { app } = await import('electron');
    const e = { preventDefault: vi.fn() };
    m.appEvents.get('before-quit')!(e);
    expect(e.preventDefault).toHaveBeenCalled();
    await until(() => (app.quit as ReturnType<typeof vi.fn>).mock.calls.length > 0);
  });
});
