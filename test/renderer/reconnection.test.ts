/**
 * The browser client across a lost connection: calls sent on the lost socket fail, calls made meanwhile wait for the
 * next connection (they never fail because a reconnection attempt did), views are told of the reconnection, pushed run
 * and study events reach their own subscribers; and the live running state is brought in line with the server
 * afterwards.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ModeLabClient, createWsClient } from '../../src-renderer/src/api/client';
import type { RunDetail, RunSummary } from '../../src-renderer/src/api/types';
import { live, refreshRunning, runningCount } from '../../src-renderer/src/state';

class FakeSocket {
  static readonly OPEN = 1;
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: { id: number; op: string }[] = [];
  onopen: (() => void) | null = null;
  onclose: (() => void) | null = null;
  onmessage: ((ev: { data: string }) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(text: string): void {
    this.sent.push(JSON.parse(text) as { id: number; op: string });
  }
  open(): void {
    this.readyState = FakeSocket.OPEN;
    this.onopen?.();
  }
  close(): void {
    this.readyState = 3;
    this.onclose?.();
  }
  answer(id: number, value: unknown): void {
    this.onmessage?.({ data: JSON.stringify({ id, ok: true, value }) });
  }
}

const last = (): FakeSocket => FakeSocket.all[FakeSocket.all.length - 1]!;
const settled = async <T>(p: Promise<T>): Promise<string> => {
  let state = 'pending';
  p.then(
    () => (state = 'resolved'),
    (e: Error) => (state = `rejected: ${e.name}`),
  );
  await Promise.resolve();
  await Promise.resolve();
  return state;
};

describe('the browser client across a lost connection', () => {
  beforeEach(() => {
    FakeSocket.all = [];
    vi.useFakeTimers();
    vi.stubGlobal('WebSocket', FakeSocket);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('fails only the calls sent on the lost connection; later calls wait through failed attempts and go out on reconnection', async () => {
    const client = createWsClient('ws://127.0.0.1:1/ws');
    const reconnected = vi.fn();
    client.onReconnect(reconnected);
    expect(client.connection.value).toBe('connecting');
    last().open();
    expect(client.connection.value).toBe('open');

    const inFlight = client.presets();
    expect(last().sent.map((m) => m.op)).toEqual(['presets']);
    last().close();
    expect(await settled(inFlight)).toBe('rejected: Disconnected');
    expect(client.connection.value).toBe('closed');

    const waiting = client.listRunRows({ limit: 100, offset: 0 });
    await vi.advanceTimersByTimeAsync(500);
    expect(FakeSocket.all).toHaveLength(2);
    last().close(); // the server is still down
    expect(client.connection.value).toBe('closed');
    expect(await settled(waiting)).toBe('pending');

    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeSocket.all).toHaveLength(3);
    last().open();
    expect(client.connection.value).toBe('open');
    expect(reconnected).toHaveBeenCalledTimes(1);
    const out = last().sent;
    expect(out.map((m) => m.op)).toEqual(['listRunRows']);
    last().answer(out[0]!.id, { total: 3, runs: [] });
    await expect(waiting).resolves.toEqual({ total: 3, runs: [] });
  });

  it('hands pushed run events to onEvent and study events to onStudyEvent, on the first connection and after a reconnection', () => {
    const client = createWsClient('ws://127.0.0.1:1/ws');
    const runs = vi.fn();
    const studies = vi.fn();
    client.onEvent(runs);
    const off = client.onStudyEvent(studies);
    last().open();
    const status = { type: 'status', runId: 'r1', status: 'running', error: null };
    const cell = { type: 'study-cell', studyId: 's1', cell: { index: 0, runId: 'r1', state: 'running', error: null } };
    last().onmessage?.({ data: JSON.stringify({ event: status }) });
    last().onmessage?.({ data: JSON.stringify({ studyEvent: cell }) });
    last().close();
    vi.advanceTimersByTime(500);
    last().open();
    const end = { type: 'study-status', studyId: 's1', status: 'finished' };
    last().onmessage?.({ data: JSON.stringify({ studyEvent: end }) });
    expect(runs.mock.calls).toEqual([[status]]);
    expect(studies.mock.calls).toEqual([[cell], [end]]);
    off();
    last().onmessage?.({ data: JSON.stringify({ studyEvent: end }) });
    expect(studies).toHaveBeenCalledTimes(2);
  });
});

describe('the running state after a reconnection', () => {
  afterEach(() => {
    for (const id of Object.keys(live)) delete live[id];
  });

  it('drops runs the server no longer runs (taking their stored status) and adds the ones it runs', async () => {
    live['old'] = { status: 'running', error: null, stages: {} };
    live['gone'] = { status: 'queued', error: null, stages: {} };
    live['done'] = { status: 'finished', error: null, stages: {} };
    expect(runningCount.value).toBe(2);
    const client = {
      listRuns: vi.fn(async () => ({ runs: [{ id: 'new', status: 'running' } as RunSummary], total: 1 })),
      getRun: vi.fn(async (id: string) => {
        if (id === 'gone') throw new Error('no run with this id');
        return { id, status: 'crashed', error: 'the server stopped' } as RunDetail;
      }),
    } as unknown as ModeLabClient;
    await refreshRunning(client);
    expect(client.listRuns).toHaveBeenCalledWith({ status: ['queued', 'running'], limit: 1000 });
    expect(client.getRun).toHaveBeenCalledTimes(2);
    expect(live['old']).toMatchObject({ status: 'crashed', error: 'the server stopped' });
    expect(live['gone']).toBeUndefined();
    expect(live['new']?.status).toBe('running');
    expect(runningCount.value).toBe(1);
  });
});
