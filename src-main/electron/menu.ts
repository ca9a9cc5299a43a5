/** The native menu, as a plain template (built from actions, so tests can read it without Electron). */
import type { MenuItemConstructorOptions } from 'electron';
import type { MenuCommand } from './shell-types';

export interface MenuActions {
  command(c: MenuCommand): void;
  importBundle(): void;
  setTheme(source: 'system' | 'light' | 'dark'): void;
  openDocs(): void;
  about(): void;
  quit(): void;
}

export function menuTemplate(a: MenuActions, opts: { isDev: boolean; platform: string; theme: 'system' | 'light' | 'dark' }): MenuItemConstructorOptions[] {
  const mac = opts.platform === 'darwin';
  const view: MenuItemConstructorOptions[] = [
    { label: 'History', accelerator: 'CmdOrCtrl+H', click: () => a.command('history') },
    { type: 'separator' },
    {
      label: 'Appearance',
      submenu: (['system', 'light', 'dark'] as const).map((t) => ({
        label: t === 'system' ? 'Follow the system' : t === 'light' ? 'Light' : 'Dark',
        type: 'radio' as const,
        checked: opts.theme === t,
        click: () => a.setTheme(t),
      })),
    },
    { type: 'separator' },
    { role: 'resetZoom' },
    { role: 'zoomIn' },
    { role: 'zoomOut' },
    { type: 'separator' },
    { role: 'togglefullscreen' },
  ];
  if (opts.isDev) view.push({ type: 'separator' }, { role: 'reload' }, { role: 'toggleDevTools' });
  const template: MenuItemConstructorOptions[] = [
    {
      label: 'File',
      submenu: [
        { label: 'New Experiment…', accelerator: 'CmdOrCtrl+N', click: () => a.command('new-experiment') },
        { type: 'separator' },
        { label: 'Import Bundle…', accelerator: 'CmdOrCtrl+O', click: () => a.importBundle() },
        { label: 'Export…', accelerator: 'CmdOrCtrl+E', click: () => a.command('export') },
        { type: 'separator' },
        mac ? { role: 'close' } : { label: 'Quit', accelerator: 'CmdOrCtrl+Q', click: () => a.quit() },
      ],
    },
    { label: 'Edit', submenu: [{ role: 'undo' }, { role: 'redo' }, { type: 'separator' }, { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }] },
    { label: 'View', submenu: view },
    { role: 'windowMenu' },
    {
      role: 'help',
      submenu: [
        { label: 'ModeLab Documentation', click: () => a.openDocs() },
        { label: 'About ModeLab', click: () => a.about() },
      ],
    },
  ];
  if (mac) template.unshift({ role: 'appMenu' });
  return template;
}
