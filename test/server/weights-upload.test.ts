/**
 * Endpoint weights files and `modelab serve`: a browser uploads them into the server's weights folder (POST
 * /api/weights, same-origin with the custom header, plain names only), and a recipe may name files there only.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModeLabApi } from '../../src-main/api/contract';
import { createApi } from '../../src-main/api/handlers';
import { FileRoots } from '../../src-main/engine/recipe/files';
import { type RunningServer, startServer } from '../../src-main/server/server';
import { HistoryStore } from '../../src-main/store/history';
import { tempDir } from '../store/helpers';
import { Rpc, bearer, http, wsOpen } from './helpers';

const STATIC = path.resolve(import.meta.dirname, '../../out/renderer');
const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/byo/mlp-a.safetensors');

let t: ReturnType<typeof tempDir>;
let store: HistoryStore;
let api: ModeLabApi;
let local: RunningServer;
let weightsRoot: string;

beforeAll(async () => {
  t = tempDir('modelab-weights-');
  weightsRoot = path.join(t.dir, 'weights');
  store = await HistoryStore.open({ db: path.join(t.dir, 'history.sqlite') });
  const files = { base: weightsRoot, roots: new FileRoots([weightsRoot]) };
  api = createApi({ store, files });
  local = await startServer({ api, store, staticDir: STATIC, port: 0, weightsRoot, files });
});
afterAll(async () => {
  await local?.close();
  await api.close();
  t.cleanup();
});

describe('weights files on a server', () => {
  const origin = (): string => `http://127.0.0.1:${local.port}`;
  const upload = async (name: string, headers: Record<string, string> = {}): Promise<{ status: number; body: { ok: boolean; value?: unknown; error?: { message: string } } }> => {
    const r = await http(`${local.url}api/weights?name=${encodeURIComponent(name)}`, { method: 'POST', body: readFileSync(FIXTURE), headers: { ...bearer(local), Origin: origin(), 'X-ModeLab': '1', ...headers } });
    return { status: r.status, body: JSON.parse(r.body.toString()) as { ok: boolean } };
  };

  it('takes a file under its plain name, whole', async () => {
    expect(await upload('mlp-a.safetensors')).toEqual({ status: 200, body: { ok: true, value: { name: 'mlp-a.safetensors' } } });
    expect(readFileSync(path.join(weightsRoot, 'mlp-a.safetensors'))).toEqual(readFileSync(FIXTURE));
  });

  it.each(['../x.safetensors', 'sub/x.safetensors', '.hidden.json', 'x.exe', 'a..b.json', ''])('refuses the name %j', async (name) => {
    const r = await upload(name);
    expect(r.status).toBe(400);
    expect(r.body.error?.message).toMatch(/a plain file name ending in \.safetensors, \.json or \.bin/);
  });

  it('refuses an upload without the custom header or from another origin', async () => {
    expect((await upload('a.safetensors', { 'X-ModeLab': '0' })).status).toBe(403);
    expect((await upload('a.safetensors', { Origin: 'http://evil.example' })).status).toBe(403);
  });

  it('a recipe may name files in the weights folder only', async () => {
    const ws = await wsOpen(`ws://127.0.0.1:${local.port}/ws`, { ...bearer(local), Origin: origin() });
    const rpc = new Rpc(ws);
    const recipe = (weights: string): unknown => ({
      name: 'byo',
      dataset: { name: 'spirals' },
      architecture: { type: 'mlp', hidden: [8] },
      training: { steps: 1 },
      endpoints: [{ name: 'A', weights }, { name: 'B' }],
    });
    for (const w of ['/etc/passwd.safetensors', '../history.sqlite.json']) {
      const r = await rpc.call('startRun', { recipe: recipe(w) });
      expect(r, w).toMatchObject({ ok: false, error: { message: expect.stringMatching(/endpoints\.0\.weights: .* is outside the folders this server reads \(.*weights\)/) } });
    }
    expect(((await rpc.call('listRuns', {})) as { value: { total: number } }).value.total).toBe(0);
    // A file uploaded is named by its plain name: relative to the weights folder.
    expect(await rpc.call('estimateRun', { recipe: recipe('mlp-a.safetensors') })).toMatchObject({ ok: true });
    ws.close();
  });
});
