/** Every type's resolvers in one map, as `createSchema` wants them. */
import type { Resolvers } from '../generated/resolvers.js';
import { Build } from './Build.js';
import { Commit } from './Commit.js';
import { Feed } from './Feed.js';
import { LogSearchFields } from './LogSearch.js';
import { Mutation } from './Mutation.js';
import { Node } from './Node.js';
import { Pipeline } from './Pipeline.js';
import { Project } from './Project.js';
import { Query } from './Query.js';
import { Runner } from './Runner.js';
import { scalars } from './scalars.js';
import { Subscription } from './Subscription.js';
import { TraceChunk } from './TraceChunk.js';
import { Upstream } from './Upstream.js';
import { User } from './User.js';

export const resolvers: Resolvers = {
  ...scalars,
  Query: { ...Query, ...Feed },
  Mutation,
  Subscription,
  TraceChunk,
  Node,
  Project,
  Build: { ...Build, ...LogSearchFields },
  Pipeline,
  Commit,
  User,
  Runner,
  Upstream,
};
