/**
 * Build logs read at most once per operation: every `Build.trace(offset, limit)` of one build in one
 * tick of execution (aliases, the same build reached through several lists) is served from one
 * upstream read, from the lowest offset asked to the furthest end asked, and each window is cut out of
 * it. Identical windows are one key. Line-numbered logs (bk-ci) cannot be cut by offset without their
 * line numbers, so there each distinct window reads for itself (its pages stop at its own limit).
 */
import DataLoader from 'dataloader';
import { cutWindow } from '../upstreams/log-window.js';
import type { CallContext, TraceSlice, Upstream } from '../upstreams/types.js';

export interface TraceKey {
  upstream: string;
  projectId: string;
  locator: string;
  /** The attempt whose log (bk-ci); null for the current one. */
  attempt: number | null;
  offset: number;
  limit: number;
}

export type TraceLoader = DataLoader<TraceKey, TraceSlice, string>;

const buildOf = (key: TraceKey): string => JSON.stringify([key.upstream, key.projectId, key.locator, key.attempt]);
const traceKey = (key: TraceKey): string => JSON.stringify([key.upstream, key.projectId, key.locator, key.attempt, key.offset, key.limit]);

/** The slice of every window of one build, from one read where the adapter's slices carry their bytes. */
async function readWindows(adapter: Upstream, call: CallContext, keys: readonly TraceKey[]): Promise<Array<TraceSlice | Error>> {
  const [first] = keys as [TraceKey];
  const read = (offset: number, limit: number) => adapter.readTrace(call, first.projectId, first.locator, { offset, limit, attempt: first.attempt });
  if (adapter.traceUnit !== 'BYTES') {
    return Promise.all(keys.map((key) => read(key.offset, key.limit).catch((error: unknown) => toError(error))));
  }
  const from = Math.min(...keys.map((key) => key.offset));
  const to = Math.max(...keys.map((key) => key.offset + key.limit));
  let whole: TraceSlice;
  try {
    whole = await read(from, to - from);
  } catch (error) {
    return keys.map(() => toError(error));
  }
  const { bytes } = whole;
  if (!bytes) return Promise.all(keys.map((key) => read(key.offset, key.limit).catch((error: unknown) => toError(error))));
  const source = { offset: whole.offset, bytes, toEnd: whole.atEnd, size: whole.size };
  return keys.map((key) => {
    try {
      return cutWindow(source, key.offset, key.limit);
    } catch (error) {
      return toError(error);
    }
  });
}

const toError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

/** `run` runs a task under the upstream's per-request concurrency cap. */
export function createTraceLoader(
  resolve: (upstream: string) => { adapter: Upstream; call: CallContext },
  run: <T>(upstream: string, task: () => Promise<T>) => Promise<T>,
): TraceLoader {
  return new DataLoader<TraceKey, TraceSlice, string>(
    async (keys) => {
      const byBuild = new Map<string, TraceKey[]>();
      for (const key of keys) {
        const group = byBuild.get(buildOf(key));
        if (group) group.push(key);
        else byBuild.set(buildOf(key), [key]);
      }
      const slices = new Map<TraceKey, TraceSlice | Error>();
      await Promise.all(
        [...byBuild.values()].map(async (group) => {
          const { adapter, call } = resolve(group[0]!.upstream);
          const results = await run(group[0]!.upstream, () => readWindows(adapter, call, group));
          group.forEach((key, i) => slices.set(key, results[i]!));
        }),
      );
      return keys.map((key) => slices.get(key)!);
    },
    { cacheKeyFn: traceKey },
  );
}
