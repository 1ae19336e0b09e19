import type { GatewayContext } from '../context.js';
import type { PipelineResolvers } from '../generated/resolvers.js';
import { encodeGlobalId } from '../relay.js';
import type { PipelineModel } from '../model.js';
import { listBuilds, orLoad } from './helpers.js';

const loadPipeline = (pipeline: PipelineModel, context: GatewayContext) => context.loaders.pipeline.load(pipeline);

export const Pipeline: PipelineResolvers = {
  id: (pipeline) => encodeGlobalId('Pipeline', pipeline.upstream, pipeline.projectId, pipeline.id),
  upstreamId: (pipeline) => pipeline.id,
  upstream: (pipeline) => pipeline.upstream,
  name: orLoad('name', loadPipeline),
  status: async (pipeline, _args, context) => pipeline.status ?? (await loadPipeline(pipeline, context)).status ?? 'CREATED',
  upstreamStatus: async (pipeline, _args, context) =>
    pipeline.upstreamStatus ?? (await loadPipeline(pipeline, context)).upstreamStatus ?? '',
  ref: orLoad('ref', loadPipeline),
  sha: orLoad('sha', loadPipeline),
  source: orLoad('source', loadPipeline),
  createdAt: orLoad('createdAt', loadPipeline),
  updatedAt: orLoad('updatedAt', loadPipeline),
  startedAt: orLoad('startedAt', loadPipeline),
  finishedAt: orLoad('finishedAt', loadPipeline),
  duration: orLoad('duration', loadPipeline),
  webUrl: orLoad('webUrl', loadPipeline),
  user: orLoad('user', loadPipeline),
  commit: async (pipeline, _args, context) => {
    const sha = pipeline.sha ?? (await loadPipeline(pipeline, context)).sha;
    return sha ? { upstream: pipeline.upstream, projectId: pipeline.projectId, sha } : null;
  },
  builds: (pipeline, args, context) =>
    listBuilds(context, pipeline.upstream, { of: 'pipeline', projectId: pipeline.projectId, pipelineId: pipeline.id }, args),
  bridges: (pipeline, args, context) =>
    listBuilds(
      context,
      pipeline.upstream,
      { of: 'pipeline', projectId: pipeline.projectId, pipelineId: pipeline.id, bridges: true },
      args,
    ),
};
