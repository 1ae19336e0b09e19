/**
 * The feeds across upstreams and projects: `Query.builds(sources:)`. The shared part (sources, cursor,
 * failed sources) is feed-plan.ts, the merge loaders/feed.ts.
 *
 * `Query.pipelines(sources:)` is the same call over `Upstream.listPipelines` (another branch of issue
 * #15); once it is merged it is, with `pipelines(sources: [BuildSource!]!, scope, first, after):
 * PipelineConnection!` in schema/feed.graphql:
 *
 *   pipelines: (_parent, args, context, info) =>
 *     resolveFeed('pipelines', args, context, info, async (upstream, projectId, statuses, after, first) => {
 *       const { adapter, call } = context.upstream(upstream);
 *       const page = await adapter.listPipelines(call, { source: { of: 'project', projectId }, statuses, first, after });
 *       return { items: page.pipelines, positions: page.positions, hasNextPage: page.hasNextPage };
 *     }, (pipeline) => createdAtMs(pipeline.createdAt)),
 *
 * (through their per-request list loader instead, if they add one).
 */
import type { QueryResolvers } from '../generated/resolvers.js';
import { createdAtMs } from '../loaders/feed.js';
import { primeBuilds } from '../loaders/index.js';
import type { BuildModel } from '../model.js';
import type { BuildConnectionModel } from '../relay.js';
import { resolveFeed } from './feed-plan.js';

export const Feed: Pick<QueryResolvers, 'builds'> = {
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
};
