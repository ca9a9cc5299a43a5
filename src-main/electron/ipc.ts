/**
 * Main-side IPC: one `ipcMain.handle` per operation. Every handler first checks the sender (the app's own page, top
 * frame), then the arguments' size and nesting depth (the server's limits), then validates them with the wire
 * schemas (api/wire.ts), runs the operation and returns an {ok, value|error} envelope — never a throw, since
 * Electron keeps only the message of a rejected invoke.
 * Shell operations (save/open dialogs) are validated the same way; the renderer never names a path to write.
 */
import path from 'node:path';
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { z } from 'zod';
import type { ModeLabApi } from '../api/contract';
import { MAX_ARGS_DEPTH, MAX_MESSAGE_BYTES, argumentsExceedLimits } from '../api/message-limits';
import { dispatch, runId, toWireError } from '../api/wire';
import { IPC_PREFIX, WIRE_OPS } from '../api/wire-types';
import { writeFileAtomic } from '../engine/io/atomic';
import { InputError } from '../engine/util/errors';
import { EXISTING_RUN_CHOICES, RunExistsError } from '../store/bundle';
import type { Envelope, WireApi } from '../api/wire-types';
import { SHELL_OPS, SHELL_PREFIX, type SaveKind, type ShellApi } from './shell-types';

/** The native dialogs the shell needs (Electron's dialog, or a mock in tests). */
export interface Dialogs {
  save(opts: { defaultPath: string; filters: { name: string; extensions: string[] }[] }): Promise<string | null>;
  open(opts: { directory: boolean; filters?: { name: string; extensions: string[] }[] }): Promise<string | null>;
}

export interface IpcOptions {
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>;
  wire: WireApi;
  api: ModeLabApi;
  dialogs: Dialogs;
  /** The app's page (see window.appUrlMatcher). */
  isAppUrl: (url: string) => boolean;
  /** Where dialogs open first. */
  defaultDir: () => string;
  onImported?: (ids: string[]) => void;
}

const FILTERS: Record<SaveKind, { name: string; extensions: string[] }> = {
  png: { name: 'PNG image', extensions: ['png'] },
  svg: { name: 'SVG vector image', extensions: ['svg'] },
  csv: { name: 'CSV table', extensions: ['csv'] },
  json: { name: 'JSON', extensions: ['json'] },
};

const fileName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^/\\:*?"<>|\0]+$/, 'a file name without folders');

/** The largest file the renderer may hand over to save (a CSV of many runs, a PNG at twice a chart's size). */
const SAVE_DATA_MAX = 512 * 1024 * 1024;

/**
 * The server's limits on a call (api/message-limits.ts), applied to IPC arguments before validation: the wire
 * operations take what a WebSocket message may carry; the shell's saveFile carries a whole file, up to SAVE_DATA_MAX.
 */
const WIRE_LIMITS = { maxDepth: MAX_ARGS_DEPTH, maxBytes: MAX_MESSAGE_BYTES };
const SHELL_LIMITS = { maxDepth: MAX_ARGS_DEPTH, maxBytes: SAVE_DATA_MAX + 64 * 1024 };

const tooLarge = (op: string, why: string): Envelope<never> => ({ ok: false, error: { name: 'ArgumentError', message: `${op}: ${why}` } });

export const SHELL_SCHEMAS = {
  saveFile: z.tuple([
    z
      .object({
        suggestedName: fileName,
        kind: z.enum(['png', 'svg', 'csv', 'json']),
        data: z.string().max(SAVE_DATA_MAX),
      })
      .strict()
      .refine((r) => r.kind !== 'png' || r.data.startsWith('data:image/png;base64,'), 'a PNG comes as a data:image/png;base64 URL'),
  ]),
  saveBundle: z.tuple([z.array(runId).min(1).max(10_000)]),
  importBundle: z.tuple([z.enum(EXISTING_RUN_CHOICES).exclude(['refuse']).optional()]),
  chooseDirectory: z.tuple([]),
  chooseWeightsFile: z.tuple([]),
} satisfies Record<keyof ShellApi, z.ZodType>;

type Frame = { url: string; parent: unknown } | null | undefined;

/** The sender must be the top frame of the app's own page. */
export function trustedSender(event: Pick<IpcMainInvokeEvent, 'senderFrame'>, isAppUrl: (url: string) => boolean): boolean {
  const frame = event.senderFrame as Frame;
  return !!frame && frame.parent === null && isAppUrl(frame.url);
}

const REFUSED: Envelope<never> = { ok: false, error: { name: 'Forbidden', message: 'this page may not call ModeLab' } };

export function createShell(o: Pick<IpcOptions, 'api' | 'dialogs' | 'defaultDir' | 'onImported'>): ShellApi {
  // The bundle whose import waits for the user's choice (its runs are already in the history). The renderer never
  // names a path, so the choice comes back without one.
  let waiting: string | null = null;
  return {
    async saveFile(req) {
      const target = await o.dialogs.save({ defaultPath: path.join(o.defaultDir(), req.suggestedName), filters: [FILTERS[req.kind]] });
      if (!target) return false;
      const data = req.kind === 'png' ? Buffer.from(req.data.slice(req.data.indexOf(',') + 1), 'base64') : req.data;
      writeFileAtomic(target, data);
      return true;
    },
    async saveBundle(ids) {
      const name = ids.length === 1 ? `modelab-${ids[0]}.zip` : `modelab-${ids.length}-runs.zip`;
      const target = await o.dialogs.save({ defaultPath: path.join(o.defaultDir(), name), filters: [{ name: 'ModeLab bundle', extensions: ['zip'] }] });
      if (!target) return false;
      await o.api.exportRuns({ ids, format: 'bundle', out: target.endsWith('.zip') ? target : `${target}.zip`, overwrite: true });
      return true;
    },
    async importBundle(choice) {
      const source = choice ? waiting : await o.dialogs.open({ directory: false, filters: [{ name: 'ModeLab bundle', extensions: ['zip'] }] });
      if (!source) {
        if (choice) throw new InputError('no bundle is waiting for that choice; choose one with Import…');
        return null;
      }
      waiting = null;
      try {
        const r = await o.api.importBundle(source, { existing: choice ?? 'refuse' });
        o.onImported?.(r.ids);
        return r;
      } catch (e) {
        if (e instanceof RunExistsError) waiting = source;
        throw e;
      }
    },
    chooseDirectory: () => o.dialogs.open({ directory: true }),
    chooseWeightsFile: () => o.dialogs.open({ directory: false, filters: [{ name: 'Network weights (safetensors, TensorFlow.js model.json)', extensions: ['safetensors', 'json'] }] }),
  };
}

/** Registers every handler; returns the shell (for the menu) and a function that removes the handlers. */
export function registerIpc(o: IpcOptions): { shell: ShellApi; dispose: () => void } {
  const shell = createShell(o);
  const channels: string[] = [];
  for (const op of WIRE_OPS) {
    const channel = `${IPC_PREFIX}${op}`;
    o.ipcMain.handle(channel, (event, ...args: unknown[]) => {
      if (!trustedSender(event, o.isAppUrl)) return REFUSED;
      const excess = argumentsExceedLimits(args, WIRE_LIMITS);
      return excess ? tooLarge(op, excess) : dispatch(o.wire, op, args);
    });
    channels.push(channel);
  }
  for (const op of SHELL_OPS) {
    const channel = `${SHELL_PREFIX}${op}`;
    o.ipcMain.handle(channel, async (event, ...args: unknown[]): Promise<Envelope<unknown>> => {
      if (!trustedSender(event, o.isAppUrl)) return REFUSED;
      const excess = argumentsExceedLimits(args, SHELL_LIMITS);
      if (excess) return tooLarge(op, excess);
      const parsed = SHELL_SCHEMAS[op].safeParse(args);
      if (!parsed.success) {
        return { ok: false, error: { name: 'ArgumentError', message: `${op}: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'arguments'}: ${i.message}`).join('; ')}` } };
      }
      try {
        const fn = shell[op] as (...a: unknown[]) => Promise<unknown>;
        return { ok: true, value: await fn(...(parsed.data as unknown[])) };
      } catch (e) {
        return { ok: false, error: toWireError(e) };
      }
    });
    channels.push(channel);
  }
  return { shell, dispose: () => channels.forEach((c) => o.ipcMain.removeHandler(c)) };
}
