/**
 * The point worker: evaluates points inside 'line'/'curve' segments for the experiment process (points.ts) with the
 * same backend, the same evaluation sets batched alike, and the same SegmentPointEvaluator, so every point has the
 * metrics it would have had there. Long-lived: started while the endpoints train, it serves every path of the run,
 * one message at a time, and exits when its owner goes away (or kills it).
 */
import { readFileSync, rmSync } from 'node:fs';
import { selectBackend } from '../engine/backend/backends';
import type { Split } from '../engine/data/dataset';
import { DeviceSplit } from '../engine/eval/evaluate';
import { decodeSafetensors } from '../engine/io/safetensors';
import type { HostParams, HostTensor } from '../engine/nn/params';
import type { ArchSpec } from '../engine/nn/spec';
import type { EvalSplits } from '../engine/paths/evaluate-path';
import type { ParamPath } from '../engine/paths/path';
import { SegmentPointEvaluator } from '../engine/paths/pointwise';
import { PlaneEvaluator } from '../engine/plane/plane';
import { yieldToEventLoop } from '../engine/util/progress';
import { type FromPointWorker, type ToPointWorker, toWireMetrics } from './protocol';
import { leaveTerminalSignalsToOwner, parentPort } from './process';

const port = parentPort();
const send = (m: FromPointWorker, sent?: () => void): void => port.send(m, sent);

leaveTerminalSignalsToOwner();
port.onDisconnect(() => process.exit(70));

interface Session {
  spec: ArchSpec;
  path: ParamPath;
  evaluator: SegmentPointEvaluator;
}

/** A loss plane's session: its evaluator on the evaluation sets' first samples (its own splits, freed on close). */
interface PlaneSession {
  evaluator: PlaneEvaluator;
  splits: EvalSplits;
}

/** The evaluation sets as loaded (planes take their first samples) and batched. */
let data: { train: Split; test: Split; features: number; batchSize: number } | null = null;
let splits: EvalSplits | null = null;
const sessions = new Map<number, Session>();
const planes = new Map<number, PlaneSession>();
const queue: ToPointWorker[] = [];
let draining = false;

/** Reads a hand-over file and deletes it. */
function take(file: string): Record<string, HostTensor> {
  try {
    return decodeSafetensors(readFileSync(file), file).tensors;
  } finally {
    rmSync(file, { force: true });
  }
}

function dropQueued(session: number): number[] {
  const ids: number[] = [];
  for (let i = queue.length - 1; i >= 0; i--) {
    const q = queue[i]!;
    if ((q.type === 'point' || q.type === 'cell') && q.session === session) {
      ids.unshift(q.id);
      queue.splice(i, 1);
    }
  }
  return ids;
}

port.onMessage((raw) => {
  const m = raw as ToPointWorker;
  // Taken back or no longer wanted: points not started leave the queue at once.
  if (m.type === 'withdraw') return send({ type: 'withdrawn', session: m.session, ids: dropQueued(m.session) });
  if (m.type === 'close') dropQueued(m.session);
  queue.push(m);
  void drain();
});

send({ type: 'ready', pid: process.pid });

async function drain(): Promise<void> {
  if (draining) return;
  draining = true;
  try {
    while (queue.length) {
      try {
        await handle(queue.shift()!);
      } catch (e) {
        // Without its backend, its data or a session's vertices the worker is of no use: say why and stop (the owner
        // evaluates the points itself).
        send({ type: 'error', message: (e as Error).message, stack: (e as Error).stack }, () => process.exit(1));
        return await new Promise<never>(() => undefined);
      }
      // Lets withdraw and close messages in between points.
      await yieldToEventLoop();
    }
  } finally {
    draining = false;
  }
}

async function handle(m: ToPointWorker): Promise<void> {
  switch (m.type) {
    case 'init':
      await selectBackend(m.backend);
      return;
    case 'data':
      data = loadSets(m.file, m.batchSize);
      splits = { train: new DeviceSplit(data.train, data.features, data.batchSize), test: new DeviceSplit(data.test, data.features, data.batchSize) };
      return;
    case 'open':
      if (!splits) throw new Error('a session opened before the evaluation sets');
      sessions.set(m.session, {
        spec: m.spec,
        path: { name: `session ${m.session}`, method: 'shared', vertices: [], segments: m.segments },
        evaluator: new SegmentPointEvaluator(m.spec, splits),
      });
      return;
    case 'vertices': {
      const s = sessions.get(m.session);
      const tensors = take(m.file);
      if (!s) return;
      for (const [name, t] of Object.entries(tensors)) {
        const dot = name.indexOf('.');
        const v = Number(name.slice(1, dot));
        (s.path.vertices[v] ??= {} as HostParams)[name.slice(dot + 1)] = t;
      }
      return;
    }
    case 'point': {
      const s = sessions.get(m.session);
      if (!s) return;
      try {
        const before = s.evaluator.cost;
        const [r] = await s.evaluator.evaluateMany(s.path, m.segment, [m.u]);
        send({ type: 'point', session: m.session, id: m.id, train: toWireMetrics(r!.train), test: toWireMetrics(r!.test), cost: s.evaluator.cost - before });
      } catch (e) {
        send({ type: 'error', session: m.session, id: m.id, message: (e as Error).message, stack: (e as Error).stack });
      }
      return;
    }
    case 'plane': {
      const t = take(m.file);
      if (!data) throw new Error('a plane opened before the evaluation sets');
      const part = (prefix: 'a' | 'b' | 'c'): HostParams =>
        Object.fromEntries(Object.entries(t).filter(([k]) => k.startsWith(`${prefix}.`)).map(([k, v]) => [k.slice(2), v]));
      const d = data;
      const first = (s: Split, n: number): DeviceSplit =>
        new DeviceSplit({ x: s.x.subarray(0, n * d.features), y: s.y.subarray(0, n), n }, d.features, d.batchSize);
      const own = { train: first(d.train, m.train), test: first(d.test, m.test) };
      const frame = { A: part('a'), B: part('b'), C: part('c'), lengthAB: m.lengthAB, p: m.p, q: m.q };
      planes.set(m.session, { evaluator: new PlaneEvaluator(m.spec, frame, own), splits: own });
      return;
    }
    case 'cell': {
      const s = planes.get(m.session);
      if (!s) return;
      try {
        const before = s.evaluator.cost;
        const r = await s.evaluator.evaluate(m.x, m.y);
        send({ type: 'point', session: m.session, id: m.id, train: toWireMetrics(r.train), test: toWireMetrics(r.test), cost: s.evaluator.cost - before });
      } catch (e) {
        send({ type: 'error', session: m.session, id: m.id, message: (e as Error).message, stack: (e as Error).stack });
      }
      return;
    }
    case 'close': {
      sessions.get(m.session)?.evaluator.dispose();
      sessions.delete(m.session);
      const plane = planes.get(m.session);
      plane?.evaluator.dispose();
      plane?.splits.train.dispose();
      plane?.splits.test.dispose();
      planes.delete(m.session);
      return;
    }
    case 'withdraw':
      return;
  }
}

/** The evaluation sets from an evalDataSafetensors file, to be batched as the experiment process batches them. */
function loadSets(file: string, batchSize: number): { train: Split; test: Split; features: number; batchSize: number } {
  const t = take(file);
  const split = (prefix: 'train' | 'test') => {
    const x = t[`${prefix}.x`];
    const y = t[`${prefix}.y`];
    if (!x || !y) throw new Error(`${file} has no ${prefix}.x / ${prefix}.y`);
    const n = y.shape[0]!;
    const features = x.shape.slice(1).reduce((a, b) => a * b, 1);
    return { split: { x: x.data, y: Int32Array.from(y.data), n }, features };
  };
  const [train, test] = [split('train'), split('test')];
  return { train: train.split, test: test.split, features: train.features, batchSize };
}
