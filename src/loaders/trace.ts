/**
 * Build logs read once per operation: every `Build.trace(offset, limit)` of one build in one tick of
 * execution (aliases, the same build reached through several lists) is served from one upstream read,
 * from the lowest offset asked to the furthest end asked, and each window is cut out of it (bytes cut
 * at character boundaries for GitLab, numbered lines for bk-ci). Identical windows are one key; windows
 * more than a maximal window apart are read separately (see `clusters`).
 */
import DataLoader from 'dataloader';
import { linesWindow } from '../upstreams/line-window.js';
import { cutWindow } from '../upstreams/log-window.js';
import type { TraceSlice } from '../model.js';
import type { CallContext, Upstream } from '../upstreams/types.js';

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

/** The slice of every window of one build, cut from one read spanning them all. */
async function readWindows(adapter: Upstream, call: CallContext, keys: readonly TraceKey[]): Promise<Array<TraceSlice | Error>> {
  const [first] = keys as [TraceKey];
  const read = (offset: number, limit: number) => adapter.readTrace(call, first.projectId, first.locator, { offset, limit, attempt: first.attempt });
  const from = Math.min(...keys.map((key) => key.offset));
  const to = Math.max(...keys.map((key) => key.offset + key.limit));
  let whole: TraceSlice;
  try {
    whole = await read(from, to - from);
  } catch (error) {
    return keys.map(() => toError(error));
  }
  const { bytes, numberedLines } = whole;
  const cut = bytes
    ? (key: TraceKey) => cutWindow({ offset: whole.offset, bytes, toEnd: whole.atEnd, size: whole.size }, key.offset, key.limit)
    : numberedLines
      ? (key: TraceKey) => withoutLines(linesWindow(numberedLines, key.offset, key.limit, whole.atEnd, whole.size))
      : undefined;
  // An adapter whose slices carry neither: each window reads for itself.
  if (!cut) return Promise.all(keys.map((key) => read(key.offset, key.limit).catch((error: unknown) => toError(error))));
  return keys.map((key) => {
    try {
      return cut(key);
    } catch (error) {
      return toError(error);
    }
  });
}

/** What resolvers (and the finished-build cache) keep: the text, not the read it was cut from. */
function withoutLines(slice: TraceSlice): TraceSlice {
  const { numberedLines: _lines, ...rest } = slice;
  return rest;
}

/**
 * Windows of one build in groups that one read serves well: sorted by offset, a window starting more
 * than `gap` past the group's end starts a new group, so two windows far apart in a long log are two
 * short reads (each stops at its end) rather than one read of everything between them.
 */
function clusters(keys: readonly TraceKey[], gap: number): TraceKey[][] {
  const sorted = [...keys].sort((a, b) => a.offset - b.offset);
  const groups: TraceKey[][] = [];
  let end = Number.NEGATIVE_INFINITY;
  for (const key of sorted) {
    if (key.offset > end + gap) groups.push([key]);
    else groups[groups.length - 1]!.push(key);
    end = Math.max(end, key.offset + key.limit);
  }
  return groups;
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
      const reads = [...byBuild.values()].flatMap((group) => {
        const { adapter, call } = resolve(group[0]!.upstream);
        return clusters(group, adapter.maxTraceLimit).map((cluster) => ({ adapter, call, cluster }));
      });
      await Promise.all(
        reads.map(async ({ adapter, call, cluster }) => {
          const results = await run(cluster[0]!.upstream, () => readWindows(adapter, call, cluster));
          cluster.forEach((key, i) => slices.set(key, results[i]!));
        }),
      );
      return keys.map((key) => slices.get(key)!);
    },
    { cacheKeyFn: traceKey },
  );
}
