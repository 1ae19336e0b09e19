/**
 * The feeds across upstreams and projects: `Query.builds(sources:)` and `Query.pipelines(sources:)`,
 * one merge over each source's own list (through the per-request list loaders, so the same page asked
 * for elsewhere in the operation is one request). The shared part (sources, cursor, failed sources) is
 * feed-plan.ts, the merge loaders/feed.ts.
 */
import type { QueryResolvers } from '../generated/resolvers.js';
import { createdAtMs } from '../loaders/feed.js';
import { primeBuilds } from '../loaders/index.js';
import type { BuildModel, PipelineModel } from '../model.js';
import type { BuildConnectionModel, PipelineConnectionModel } from '../relay.js';
import { resolveFeed } from './feed-plan.js';

export const Feed: Pick<QueryResolvers, 'builds' | 'pipelines'> = {
  builds: async (_parent, args, context, info) =>
    (await resolveFeed<BuildModel, NonNullable<typeof args.scope>[number]>(
      'builds',
      args,
      context,
      info,
      async (upstream, projectId, statuses, after, first) => {
        // Through the list loader: the same page asked for elsewhere in the operation is one request.
        const page = await context.loaders.list.load({ upstream, source: { of: 'project', projectId }, statuses, first, after });
        primeBuilds(context.loaders, page.builds);
        return { items: page.builds, positions: page.positions, hasNextPage: page.hasNextPage };
      },
      (build) => createdAtMs(build.createdAt),
    )) as BuildConnectionModel,
  pipelines: async (_parent, args, context, info) =>
    (await resolveFeed<PipelineModel, NonNullable<typeof args.scope>[number]>(
      'pipelines',
      args,
      context,
      info,
      async (upstream, projectId, statuses, after, first) => {
        const page = await context.loaders.pipelineList.load({ upstream, projectId, scope: statuses, perPage: first, after });
        return { items: page.pipelines, positions: page.positions, hasNextPage: page.hasNextPage };
      },
      (pipeline) => createdAtMs(pipeline.createdAt),
    )) as PipelineConnectionModel,
};
