/**
 * The renderer's one api client. Under Electron it calls the preload's named functions (IPC); in a browser it talks
 * to `modelab serve` over a WebSocket. Either way the views see the same interface: the wire operations (resolving
 * to values, rejecting with ApiError), pushed events, and a few shell services (saving files, bundles, dialogs).
 */
import { ref, type Ref } from 'vue';
import { type ApiEvent, type AppInfo, type Envelope, type ImportChoice, type ImportResult, type MenuCommand, type ModelabBridge, type SaveKind, type StudyEvent, type WireApi, type WireError, type WireOp, type WsServerMessage, WIRE_OPS } from './types';

export class ApiError extends Error {
  readonly code?: string;
  /** The recipe field a refused request is about, with the reason alone (WireError.at). */
  readonly at?: WireError['at'];
  constructor(e: WireError) {
    super(e.message);
    this.name = e.name;
    if (e.code) this.code = e.code;
    if (e.at) this.at = e.at;
  }
}

export interface ModeLabClient extends WireApi {
  readonly kind: 'electron' | 'browser';
  /**
   * 'connecting' until the first connection, 'open' while calls go through, 'closed' once an open connection was
   * lost (a browser client then reconnects by itself, and calls made meanwhile wait for it).
   */
  readonly connection: Ref<'connecting' | 'open' | 'closed'>;
  onEvent(cb: (e: ApiEvent) => void): () => void;
  /** Study events: a study's status, its cells' runs starting and ending, its progress. */
  onStudyEvent(cb: (e: StudyEvent) => void): () => void;
  /** Native menu commands (desktop only). */
  onMenu(cb: (c: MenuCommand, detail?: unknown) => void): () => void;
  /** Runs after a reconnection (views reload what they show). */
  onReconnect(cb: () => void): () => void;
  /** Saves text or a PNG data URL: a native save dialog in the app, a download in the browser. */
  saveFile(suggestedName: string, kind: SaveKind, data: string): Promise<boolean>;
  saveBundle(ids: string[]): Promise<boolean>;
  /**
   * Imports a bundle the user picks (null when cancelled). A bundle whose runs the history already has is refused
   * with code RUN_EXISTS; called again with a choice, the same bundle is imported, skipping or copying those runs.
   */
  importBundle(choice?: ImportChoice): Promise<ImportResult | null>;
  /** A native folder chooser (desktop); null in a browser, where the folder is typed (it is on the server). */
  readonly chooseDirectory: (() => Promise<string | null>) | null;
  /** An endpoint's weights file: the desktop's native chooser (its path), or in a browser the files picked uploaded
   *  into the server's weights folder (modelab serve --weights; the name there). null when cancelled. */
  chooseWeightsFile(): Promise<string | null>;
}

function unwrap<T>(env: Envelope<T>): T {
  if (env.ok) return env.value;
  throw new ApiError(env.error);
}

const MIME: Record<SaveKind, string> = { png: 'image/png', svg: 'image/svg+xml', csv: 'text/csv', json: 'application/json' };

/** Browser download of text or a data: URL. */
export function download(name: string, kind: SaveKind, data: string): void {
  let blob: Blob;
  if (kind === 'png') {
    const b64 = data.slice(data.indexOf(',') + 1);
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    blob = new Blob([bytes], { type: MIME.png });
  } else blob = new Blob([data], { type: `${MIME[kind]};charset=utf-8` });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// ------------------------------------------------------------------------------------------------------ Electron

export function createIpcClient(bridge: ModelabBridge): ModeLabClient {
  const ops = Object.fromEntries(
    WIRE_OPS.map((op) => [op, async (...args: unknown[]) => unwrap(await (bridge[op] as (...a: unknown[]) => Promise<Envelope<unknown>>)(...args))]),
  ) as unknown as WireApi;
  return {
    ...ops,
    kind: 'electron',
    connection: ref('open'),
    onEvent: (cb) => bridge.onEvent(cb),
    onStudyEvent: (cb) => bridge.onStudyEvent(cb),
    onMenu: (cb) => bridge.onMenu(cb),
    onReconnect: () => () => undefined,
    saveFile: async (suggestedName, kind, data) => unwrap(await bridge.saveFile({ suggestedName, kind, data })),
    saveBundle: async (ids) => unwrap(await bridge.saveBundle(ids)),
    importBundle: async (choice) => unwrap(await bridge.importBundle(choice)),
    chooseDirectory: async () => unwrap(await bridge.chooseDirectory()),
    chooseWeightsFile: async () => unwrap(await bridge.chooseWeightsFile()),
  };
}

// ------------------------------------------------------------------------------------------------------ browser

export function createWsClient(url: string): ModeLabClient {
  const connection = ref<'connecting' | 'open' | 'closed'>('connecting');
  const events = new Set<(e: ApiEvent) => void>();
  const studyEvents = new Set<(e: StudyEvent) => void>();
  const reconnects = new Set<() => void>();
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  /** Calls made while no connection is open, sent when one opens; `sent`: calls awaiting an answer on the open one. */
  const queue: { id: number; text: string }[] = [];
  const sent = new Set<number>();
  let nextId = 1;
  let ws: WebSocket | null = null;
  let retry = 0;
  let everOpened = false;
  const info = ref<AppInfo | null>(null);

  const send = (socket: WebSocket, m: { id: number; text: string }): void => {
    sent.add(m.id);
    socket.send(m.text);
  };
  const connect = (): void => {
    if (!everOpened) connection.value = 'connecting';
    const socket = new WebSocket(url);
    ws = socket;
    socket.onopen = () => {
      retry = 0;
      connection.value = 'open';
      for (const m of queue.splice(0)) send(socket, m);
      if (everOpened) reconnects.forEach((cb) => cb());
      everOpened = true;
    };
    socket.onmessage = (ev) => {
      const m = JSON.parse(String(ev.data)) as WsServerMessage;
      if ('event' in m) events.forEach((cb) => cb(m.event));
      else if ('studyEvent' in m) studyEvents.forEach((cb) => cb(m.studyEvent));
      else if ('hello' in m) info.value = m.hello;
      else {
        const p = pending.get(m.id);
        if (!p) return;
        pending.delete(m.id);
        sent.delete(m.id);
        if (m.ok) p.resolve(m.value);
        else p.reject(new ApiError(m.error));
      }
    };
    socket.onclose = () => {
      connection.value = everOpened ? 'closed' : 'connecting';
      // Calls sent on this connection may or may not have run: they fail. Calls not sent yet wait for the next one.
      for (const id of sent) {
        pending.get(id)?.reject(new ApiError({ name: 'Disconnected', message: 'the connection to the ModeLab server was lost' }));
        pending.delete(id);
      }
      sent.clear();
      const delay = Math.min(5_000, 500 * 2 ** retry++);
      setTimeout(connect, delay);
    };
  };
  connect();

  const call = (op: WireOp, args: unknown[]): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      const msg = { id, text: JSON.stringify({ id, op, args }) };
      if (ws && ws.readyState === WebSocket.OPEN) send(ws, msg);
      else queue.push(msg);
    });
  const ops = Object.fromEntries(WIRE_OPS.map((op) => [op, (...args: unknown[]) => call(op, args)])) as unknown as WireApi;
  /** The bundle file whose import waits for the user's choice (its runs are already in the history). */
  let waitingUpload: File | null = null;

  return {
    ...ops,
    kind: 'browser',
    connection,
    onEvent(cb) {
      events.add(cb);
      return () => events.delete(cb);
    },
    onStudyEvent(cb) {
      studyEvents.add(cb);
      return () => studyEvents.delete(cb);
    },
    onMenu: () => () => undefined,
    onReconnect(cb) {
      reconnects.add(cb);
      return () => reconnects.delete(cb);
    },
    saveFile: async (name, kind, data) => {
      download(name, kind, data);
      return true;
    },
    saveBundle: async (ids) => {
      // The server zips the runs and sends the file (same origin: the session cookie goes with it).
      const a = document.createElement('a');
      a.href = `/api/bundle?ids=${encodeURIComponent(ids.join(','))}`;
      a.download = '';
      document.body.appendChild(a);
      a.click();
      a.remove();
      return true;
    },
    importBundle: async (choice) => {
      // A choice re-sends the file the server refused (the page keeps it; the server keeps nothing).
      const file = choice ? waitingUpload : await pickFile();
      if (!file) {
        if (choice) throw new ApiError({ name: 'InputError', message: 'no bundle is waiting for that choice; choose one with Import…' });
        return null;
      }
      waitingUpload = null;
      const r = await fetch(`/api/import${choice ? `?existing=${choice}` : ''}`, { method: 'POST', body: file, headers: { 'Content-Type': 'application/zip', 'X-ModeLab': '1' } });
      const env = (await r.json()) as Envelope<ImportResult>;
      if (!env.ok && env.error.code === 'RUN_EXISTS') waitingUpload = file;
      return unwrap(env);
    },
    chooseDirectory: null,
    chooseWeightsFile: async () => {
      // Uploaded into the server's weights folder (a TF.js model with its shards); the recipe names it there.
      const files = await pickFiles('.safetensors,.json,.bin', true);
      for (const f of files) {
        const r = await fetch(`/api/weights?name=${encodeURIComponent(f.name)}`, { method: 'POST', body: f, headers: { 'Content-Type': 'application/octet-stream', 'X-ModeLab': '1' } });
        unwrap((await r.json()) as Envelope<{ name: string }>);
      }
      return files.find((f) => !f.name.endsWith('.bin'))?.name ?? null;
    },
  };
}

/** A .zip the user picks in the browser's file chooser; null when none. */
async function pickFile(): Promise<File | null> {
  return (await pickFiles('.zip,application/zip', false))[0] ?? null;
}

/** Files the user picks in the browser's file chooser; none when cancelled. */
function pickFiles(accept: string, multiple: boolean): Promise<File[]> {
  return new Promise((resolve) => {
    const input = document.createElement('input');
    input.type = 'file';
    input.accept = accept;
    input.multiple = multiple;
    input.onchange = () => resolve([...(input.files ?? [])]);
    input.oncancel = () => resolve([]);
    input.click();
  });
}

let client: ModeLabClient | null = null;

/** The client for this page: IPC when the preload exposed `window.modelab`, else the server's WebSocket. */
export function getClient(): ModeLabClient {
  if (client) return client;
  const bridge = (window as unknown as { modelab?: ModelabBridge }).modelab;
  if (bridge) client = createIpcClient(bridge);
  else client = createWsClient(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  return client;
}

/** For tests and previews: use this client. */
export function setClient(c: ModeLabClient): void {
  client = c;
}
