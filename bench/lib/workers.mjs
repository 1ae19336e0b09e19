/**
 * Spreads trace subscribers over forked worker processes (sse-worker.mjs, or ws-worker.mjs for graphql-ws)
 * so that the load driver is not one event loop, and gathers what each subscriber received.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, track } from './procs.mjs';

const WORKER = join(ROOT, 'bench', 'lib', 'sse-worker.mjs');
/** The graphql-ws load worker (same protocol and results as sse-worker.mjs). */
export const WS_WORKER = join(ROOT, 'bench', 'lib', 'ws-worker.mjs');

/**
 * Starts `subscribers` (`[{index, token, variables}]`) over `workers` processes (`worker`: the script
 * they run, sse-worker.mjs unless given; `extra`: more fields of its start message). Resolves once every
 * subscriber has its response head (or failed), with `results()` (resolves when every stream has ended,
 * or after `stop()`), `stop()`, and `connected`/`failed` counts.
 */
export async function startSubscribers({ url, query, subscribers, workers, concurrency = 25, arrivals = false, readyTimeoutMs = 180_000, onProgress, worker = WORKER, extra = {} }) {
  worker ??= WORKER;
  const count = Math.max(1, Math.min(workers, subscribers.length));
  const shares = Array.from({ length: count }, () => []);
  subscribers.forEach((sub, i) => shares[i % count].push(sub));
  const state = { connected: new Array(count).fill(0), failed: new Array(count).fill(0) };
  const procs = shares.map((share, w) => {
    const child = track(fork(worker, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    // A worker that has reported exits; a late `stop` to it must not throw.
    child.on('error', () => {});
    let onReady;
    let onDone;
    const ready = new Promise((resolve) => (onReady = resolve));
    const done = new Promise((resolve, reject) => {
      onDone = resolve;
      // 'disconnect', not 'exit': a worker sends its results and exits at once, and its exit can be
      // seen before the last of its messages has been read from the channel.
      child.once('disconnect', () => reject(new Error(`load worker ${w} exited (${child.exitCode ?? child.signalCode ?? 'channel closed'}) before reporting`)));
    });
    done.catch(() => {});
    child.on('message', (message) => {
      if (message.type === 'progress') {
        state.connected[w] = message.connected;
        state.failed[w] = message.failed;
        onProgress?.(sum(state.connected), sum(state.failed));
      } else if (message.type === 'ready') onReady();
      else if (message.type === 'done') onDone(message.results);
    });
    child.send({ type: 'start', url, query, subscribers: share, concurrency, arrivals, ...extra });
    return { child, ready, done };
  });
  let timer;
  await Promise.race([
    Promise.all(procs.map((p) => p.ready)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`subscribers not connected within ${readyTimeoutMs} ms (${sum(state.connected)} connected)`)), readyTimeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  return {
    get connected() {
      return sum(state.connected);
    },
    get failed() {
      return sum(state.failed);
    },
    /** The worker processes' ids (for their CPU time). */
    pids: procs.map((p) => p.child.pid),
    /** Every subscriber's result, once all streams have ended (or `stop()` was called). */
    async results() {
      return (await Promise.all(procs.map((p) => p.done))).flat();
    },
    stop() {
      for (const p of procs) {
        if (p.child.connected && p.child.exitCode === null) p.child.send({ type: 'stop' }, () => {});
      }
    },
  };
}

/**
 * Several pools at once (`startSubscribers` options each, e.g. one per transport), as one: the same
 * `connected`, `failed`, `pids`, `results()` (each result tagged with its pool's `transport`) and `stop()`.
 */
export async function startPools(optionsList) {
  const settled = await Promise.allSettled(optionsList.map((options) => startSubscribers(options)));
  const pools = settled.filter((s) => s.status === 'fulfilled').map((s) => s.value);
  const failure = settled.find((s) => s.status === 'rejected');
  const combined = {
    get connected() {
      return sum(pools.map((p) => p.connected));
    },
    get failed() {
      return sum(pools.map((p) => p.failed));
    },
    pids: pools.flatMap((p) => p.pids),
    async results() {
      const lists = await Promise.all(pools.map((p) => p.results()));
      return lists.flatMap((list, i) => list.map((r) => ({ ...r, transport: optionsList[i].transport ?? (optionsList[i].worker === WS_WORKER ? 'ws' : 'sse') })));
    },
    stop() {
      for (const p of pools) p.stop();
    },
  };
  if (failure) {
    combined.stop();
    throw failure.reason;
  }
  return combined;
}

function sum(values) {
  return values.reduce((a, b) => a + b, 0);
}
