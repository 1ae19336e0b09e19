import type { GatewayContext } from '../context.js';
import type { CommitResolvers } from '../generated/resolvers.js';
import { encodeGlobalId } from '../relay.js';
import type { CommitModel } from '../model.js';
import { listBuilds, orLoad } from './helpers.js';
import { listPipelines } from './pipeline-list.js';

const loadCommit = (commit: CommitModel, context: GatewayContext) =>
  context.loaders.commit.load({ upstream: commit.upstream, projectId: commit.projectId, id: commit.sha });

export const Commit: CommitResolvers = {
  id: (commit) => encodeGlobalId('Commit', commit.upstream, commit.projectId, commit.sha),
  sha: (commit) => commit.sha,
  shortId: orLoad('shortId', loadCommit),
  title: orLoad('title', loadCommit),
  message: orLoad('message', loadCommit),
  authorName: orLoad('authorName', loadCommit),
  authorEmail: orLoad('authorEmail', loadCommit),
  authoredDate: orLoad('authoredDate', loadCommit),
  committerName: orLoad('committerName', loadCommit),
  committerEmail: orLoad('committerEmail', loadCommit),
  committedDate: orLoad('committedDate', loadCommit),
  createdAt: orLoad('createdAt', loadCommit),
  webUrl: orLoad('webUrl', loadCommit),
  builds: (commit, args, context) =>
    listBuilds(context, commit.upstream, { of: 'commit', projectId: commit.projectId, sha: commit.sha }, args),
  pipelines: (commit, args, context) => listPipelines(context, commit.upstream, { projectId: commit.projectId, sha: commit.sha }, args),
};
