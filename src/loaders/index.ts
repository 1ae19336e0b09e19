/**
 * Per-request DataLoaders, created by the context factory for every request and never shared: a
 * request has one credential per upstream, so nothing one caller fetched can reach another. Keys name
 * the upstream, so one request may span several upstreams. No upstream has a batch endpoint for these
 * entities; a batch is the distinct keys fetched in parallel under the upstream's concurrency cap.
 */
import DataLoader from 'dataloader';
import type { BuildModel, BuildStageModel, CommitModel, PipelineModel, ProjectModel, UserModel } from '../model.js';
import type { CallContext, Upstream } from '../upstreams/types.js';
import type { FinishedCache } from './finished-cache.js';
import { type Limiter, createLimiter } from './limiter.js';
import { type ListLoader, createListLoader } from './lists.js';
import { type PipelineListLoader, createPipelineListLoader } from './pipeline-lists.js';
import { type TraceLoader, createTraceLoader } from './trace.js';

/** A build, pipeline or commit inside a project; for builds `id` is the adapter's locator. */
export interface EntityKey {
  upstream: string;
  projectId: string;
  id: string;
}

export interface UserKey {
  upstream: string;
  id: string;
}

export interface ProjectLoaderKey {
  upstream: string;
  projectId: string;
}

export interface Loaders {
  build: DataLoader<EntityKey, BuildModel, string>;
  /** A build's stages, jobs and steps (null where the upstream has none). */
  stages: DataLoader<EntityKey, BuildStageModel[] | null, string>;
  pipeline: DataLoader<EntityKey, PipelineModel, string>;
  /** `id` is the commit SHA. */
  commit: DataLoader<EntityKey, CommitModel, string>;
  project: DataLoader<ProjectLoaderKey, ProjectModel, string>;
  user: DataLoader<UserKey, UserModel, string>;
  /** Pages of build lists: one upstream request per distinct list per operation (lists.ts). */
  list: ListLoader;
  /** Pages of pipeline lists: one upstream request per distinct list per operation (pipeline-lists.ts). */
  pipelineList: PipelineListLoader;
  /** Windows of build logs: one upstream read per build per operation (trace.ts). */
  trace: TraceLoader;
}

/** What the loaders need from the request: the adapter, call context and concurrency cap of an upstream. */
export interface LoaderDeps {
  resolve(upstream: string): { adapter: Upstream; call: CallContext; concurrency: number };
  /** The cross-request cache of finished builds, when configured. */
  finishedCache?: FinishedCache;
}

export const entityKey = (key: EntityKey): string => JSON.stringify([key.upstream, key.projectId, key.id]);
const userKey = (key: UserKey): string => JSON.stringify([key.upstream, key.id]);
const projectKey = (key: ProjectLoaderKey): string => JSON.stringify([key.upstream, key.projectId]);

export function createLoaders(deps: LoaderDeps): Loaders {
  const limiters = new Map<string, Limiter>();
  const limited = <T>(upstream: string, task: (adapter: Upstream, call: CallContext) => Promise<T>): Promise<T> => {
    const { adapter, call, concurrency } = deps.resolve(upstream);
    let limiter = limiters.get(upstream);
    if (!limiter) limiters.set(upstream, (limiter = createLimiter(concurrency)));
    return limiter(() => task(adapter, call));
  };
  // One Error per failed key: DataLoader then fails only that key, and the rest of the answer arrives.
  const each =
    <K extends { upstream: string }, V>(fetch: (adapter: Upstream, call: CallContext, key: K) => Promise<V>) =>
    (keys: readonly K[]): Promise<Array<V | Error>> =>
      Promise.all(
        keys.map((key) =>
          limited(key.upstream, (adapter, call) => fetch(adapter, call, key)).catch((error: unknown) =>
            error instanceof Error ? error : new Error(String(error)),
          ),
        ),
      );

  return {
    build: new DataLoader(each((adapter, call, key: EntityKey) => cachedBuild(deps.finishedCache, adapter, call, key)), {
      cacheKeyFn: entityKey,
    }),
    stages: new DataLoader(each((adapter, call, key: EntityKey) => adapter.getStages(call, key.projectId, key.id)), {
      cacheKeyFn: entityKey,
    }),
    pipeline: new DataLoader(each((adapter, call, key: EntityKey) => adapter.getPipeline(call, key.projectId, key.id)), {
      cacheKeyFn: entityKey,
    }),
    commit: new DataLoader(each((adapter, call, key: EntityKey) => adapter.getCommit(call, key.projectId, key.id)), {
      cacheKeyFn: entityKey,
    }),
    project: new DataLoader(each((adapter, call, key: ProjectLoaderKey) => adapter.getProject(call, key.projectId)), {
      cacheKeyFn: projectKey,
    }),
    user: new DataLoader(each((adapter, call, key: UserKey) => adapter.getUser(call, key.id)), { cacheKeyFn: userKey }),
    list: createListLoader(deps.resolve, (upstream, task) => limited(upstream, task)),
    pipelineList: createPipelineListLoader(deps.resolve, (upstream, task) => limited(upstream, task)),
    trace: createTraceLoader(deps.resolve, (upstream, task) => limited(upstream, task)),
  };
}

/** A build from the finished-build cache (with this credential) where it may be, else from the upstream. */
async function cachedBuild(cache: FinishedCache | undefined, adapter: Upstream, call: CallContext, key: EntityKey): Promise<BuildModel> {
  if (!cache || !adapter.finishedBuildsAreFinal) return adapter.getBuild(call, key.projectId, key.id);
  const cacheKey = { upstream: key.upstream, projectId: key.projectId, locator: key.id };
  const hit = await cache.getBuild(cacheKey, call.credential);
  if (hit) return hit;
  const build = await adapter.getBuild(call, key.projectId, key.id);
  await cache.setBuild(cacheKey, call.credential, build);
  return build;
}

/**
 * What a list response embeds primes the loaders, so asking for one of those builds again in the same
 * operation (an alias, `node`, `Query.build`) costs nothing.
 */
export function primeBuilds(loaders: Loaders, builds: readonly BuildModel[]): void {
  for (const build of builds) {
    loaders.build.prime(buildKey(build), build);
  }
}

export function buildKey(build: BuildModel): EntityKey {
  return { upstream: build.upstream, projectId: build.projectId, id: build.locator };
}
