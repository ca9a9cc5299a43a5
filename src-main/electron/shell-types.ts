/**
 * What the desktop shell offers the renderer besides the wire api (types and channel names only; the renderer
 * imports the types with `import type`): native save/open dialogs and menu commands. The renderer never names a
 * path to write: the user picks it in a native dialog opened by the main process.
 */
import type { ExistingRunChoice, ImportResult } from '../api/contract';
import type { ApiEvent, Envelope, StudyEvent, WireArgs, WireOp, WireResult } from '../api/wire-types';

export type SaveKind = 'png' | 'svg' | 'csv' | 'json';

export interface SaveFileRequest {
  /** File name suggested in the dialog (no folders). */
  suggestedName: string;
  kind: SaveKind;
  /** Text (svg, csv, json) or a data: URL (png). */
  data: string;
}

/** What to do with the runs of a bundle the history already has, once asked (the import was refused: RUN_EXISTS). */
export type ImportChoice = Exclude<ExistingRunChoice, 'refuse'>;

export type MenuCommand = 'new-experiment' | 'history' | 'export' | 'imported' | 'about';

export interface ShellApi {
  /** Shows a save dialog and writes the file; false when the user cancelled. */
  saveFile(req: SaveFileRequest): Promise<boolean>;
  /** Saves runs as a bundle (.zip) where the user chooses; false when cancelled. */
  saveBundle(ids: string[]): Promise<boolean>;
  /**
   * Imports a bundle the user chooses; null when cancelled. A bundle with a run the history already has is refused
   * (error code RUN_EXISTS); called again with a choice, it imports that same bundle, skipping or copying such runs.
   */
  importBundle(choice?: ImportChoice): Promise<ImportResult | null>;
  /** A folder the user chooses (dataset picker); null when cancelled. */
  chooseDirectory(): Promise<string | null>;
  /** A network weights file the user chooses (.safetensors or a TensorFlow.js model.json; a recipe endpoint's
   *  `weights`); null when cancelled. */
  chooseWeightsFile(): Promise<string | null>;
}

type Enveloped<F> = F extends (...a: infer A) => Promise<infer R> ? (...a: A) => Promise<Envelope<R>> : never;

/**
 * What the preload exposes as `window.modelab`: one function per operation (each resolves to an {ok, value|error}
 * envelope: errors cross the bridge as data), event subscriptions, nothing else.
 */
export type ModelabBridge = {
  [K in WireOp]: (...args: WireArgs<K>) => Promise<Envelope<WireResult<K>>>;
} & { [K in keyof ShellApi]: Enveloped<ShellApi[K]> } & {
    /** Receives api events (progress, status, curves, paths); returns the unsubscribe function. */
    onEvent(cb: (e: ApiEvent) => void): () => void;
    /** Receives study events (a study's status, its cells' runs, its progress); returns the unsubscribe function. */
    onStudyEvent(cb: (e: StudyEvent) => void): () => void;
    onMenu(cb: (command: MenuCommand, detail?: unknown) => void): () => void;
    readonly platform: string;
  };

export const SHELL_OPS = ['saveFile', 'saveBundle', 'importBundle', 'chooseDirectory', 'chooseWeightsFile'] as const satisfies readonly (keyof ShellApi)[];
export const IPC_MENU_CHANNEL = 'modelab:menu';
export const SHELL_PREFIX = 'modelab-shell:';
