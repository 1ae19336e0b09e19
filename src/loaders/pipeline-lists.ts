/**
 * Pipeline lists read once per operation, as build lists are (lists.ts): the same list (upstream,
 * project, filters, page) asked for twice, by aliases or under several parents, is one upstream
 * request. Listed pipelines do not prime the pipeline loader: GitLab's list sends the basic entity
 * only, and a field it lacks is read from the full pipeline.
 */
import DataLoader from 'dataloader';
import type { PipelineListRequest, PipelinePage } from '../model.js';
import type { CallContext, Upstream } from '../upstreams/types.js';

export interface PipelineListKey extends PipelineListRequest {
  upstream: string;
}

export type PipelineListLoader = DataLoader<PipelineListKey, PipelinePage, string>;

/** Statuses are a set: `[FAILED, RUNNING]` and `[RUNNING, FAILED]` are one list. */
const cacheKey = (key: PipelineListKey): string =>
  JSON.stringify([
    key.upstream,
    key.projectId,
    [...(key.scope ?? [])].sort(),
    key.ref ?? null,
    key.source ?? null,
    key.sha ?? null,
    key.last === undefined ? key.perPage : null,
    key.after ?? null,
    key.last ?? null,
    key.before ?? null,
  ]);

export function createPipelineListLoader(
  resolve: (upstream: string) => { adapter: Upstream; call: CallContext },
  run: <T>(upstream: string, task: () => Promise<T>) => Promise<T>,
): PipelineListLoader {
  return new DataLoader<PipelineListKey, PipelinePage, string>(
    (keys) =>
      Promise.all(
        keys.map((key) =>
          run(key.upstream, () => {
            const { adapter, call } = resolve(key.upstream);
            const { upstream: _upstream, ...request } = key;
            return adapter.listPipelines(call, request);
          }).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))),
        ),
      ),
    { cacheKeyFn: cacheKey },
  );
}
