/**
 * Build lists read once per operation: the same list (upstream, list kind, owner, scope, page size,
 * cursor) asked for under twenty parent builds, or by aliases, is one upstream request. Lists have no
 * batch endpoint, so a batch is its distinct keys fetched in parallel under the concurrency cap.
 */
import DataLoader from 'dataloader';
import type { BuildListSource, BuildPage, BuildStatus } from '../model.js';
import type { CallContext, Upstream } from '../upstreams/types.js';

export interface ListKey {
  upstream: string;
  source: BuildListSource;
  /** Distinct statuses, in the order asked; undefined for all. */
  statuses?: readonly BuildStatus[];
  first: number;
  /** The adapter's position to continue after (a decoded cursor). */
  after?: string;
  /** Backward paging (see `BuildListRequest`). */
  last?: number;
  before?: string;
}

export type ListLoader = DataLoader<ListKey, BuildPage, string>;

/** Statuses are a set: `[FAILED, RUNNING]` and `[RUNNING, FAILED]` are one list. */
const listCacheKey = (key: ListKey): string => {
  const { source } = key;
  const owner = source.of === 'project' ? [source.projectId] : source.of === 'pipeline' ? [source.projectId, source.pipelineId, source.bridges === true] : [source.projectId, source.sha];
  return JSON.stringify([key.upstream, source.of, ...owner, [...(key.statuses ?? [])].sort(), key.last === undefined ? key.first : null, key.after ?? null, key.last ?? null, key.before ?? null]);
};

export function createListLoader(
  resolve: (upstream: string) => { adapter: Upstream; call: CallContext },
  run: <T>(upstream: string, task: () => Promise<T>) => Promise<T>,
): ListLoader {
  return new DataLoader<ListKey, BuildPage, string>(
    (keys) =>
      Promise.all(
        keys.map((key) =>
          run(key.upstream, () => {
            const { adapter, call } = resolve(key.upstream);
            return adapter.listBuilds(call, { source: key.source, statuses: key.statuses, first: key.first, after: key.after, last: key.last, before: key.before });
          }).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))),
        ),
      ),
    { cacheKeyFn: listCacheKey },
  );
}
