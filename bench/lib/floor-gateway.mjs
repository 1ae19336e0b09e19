/**
 * The floor's process: the least a yoga gateway can do for the `single` and `list` queries over the same
 * simulator. graphql-yoga 5 with @envelop/graphql-jit and nothing else; resolvers that forward the
 * client's PRIVATE-TOKEN over an undici Pool, read the body with `body.text()` and `JSON.parse`, and map
 * the few fields asked. No limits, budgets, breaker, loaders, metrics, logs or error codes: what the
 * gateway costs above this is what all of those cost. Its ids are the gateway's (base64url JSON), so the
 * bench sends both the same bodies. Prints `listening on <url>` for `procs.mjs`.
 *
 * Usage: node floor-gateway.mjs <simulator url>
 */
import { createServer } from 'node:http';
import { useGraphQlJit } from '@envelop/graphql-jit';
import { createSchema, createYoga } from 'graphql-yoga';
import { Pool } from 'undici';

const pool = new Pool(process.argv[2], { connections: 16 });

const encodeId = (...parts) => Buffer.from(JSON.stringify(parts)).toString('base64url');
const decodeId = (id) => JSON.parse(Buffer.from(id, 'base64url').toString('utf8'));

async function getJson(path, request) {
  const response = await pool.request({ path, method: 'GET', headers: { 'private-token': request.headers.get('private-token') ?? '' } });
  const text = await response.body.text();
  if (response.statusCode !== 200) throw new Error(`upstream answered ${response.statusCode}`);
  return JSON.parse(text);
}

const schema = createSchema({
  typeDefs: /* GraphQL */ `
    type Query {
      build(id: ID!): Build
      project(upstream: String!, id: ID!): Project
    }
    type Project {
      id: ID!
      builds(first: Int!): BuildConnection!
    }
    type BuildConnection {
      nodes: [Build!]!
    }
    enum BuildStatus { CREATED WAITING_FOR_RESOURCE PREPARING WAITING_FOR_CALLBACK PENDING RUNNING SUCCESS FAILED CANCELING CANCELED SKIPPED MANUAL SCHEDULED }
    type Build {
      id: ID!
      name: String!
      status: BuildStatus!
      stage: String
      ref: String
      duration: Float
      commit: Commit
      pipeline: Pipeline
      user: User
    }
    type Commit { sha: String! title: String }
    type Pipeline { upstreamId: ID! status: String! }
    type User { username: String! }
  `,
  resolvers: {
    Query: {
      build: (_, { id }, { request }) => {
        const [, , projectId, jobId] = decodeId(id);
        return getJson(`/api/v4/projects/${encodeURIComponent(projectId)}/jobs/${encodeURIComponent(jobId)}`, request);
      },
      project: (_, { upstream, id }) => ({ upstream, id }),
    },
    Project: {
      id: (project) => encodeId('Project', project.upstream, project.id),
      builds: async (project, { first }, { request }) => ({
        nodes: await getJson(`/api/v4/projects/${encodeURIComponent(project.id)}/jobs?per_page=${first}`, request),
      }),
    },
    Build: {
      id: (job) => encodeId('Build', 'gitlab', String(job.pipeline?.project_id ?? 1), String(job.id)),
      status: (job) => job.status.toUpperCase(),
      commit: (job) => job.commit && { sha: job.commit.id, title: job.commit.title },
      pipeline: (job) => job.pipeline && { upstreamId: String(job.pipeline.id), status: job.pipeline.status },
    },
  },
});

const yoga = createYoga({
  schema,
  plugins: [useGraphQlJit()],
  logging: false,
  graphiql: false,
  landingPage: false,
  // As the gateway sets it: yoga's own body limit takes every request off whatwg-node's fast path.
  maxRequestBodySize: false,
});
const server = createServer(yoga);
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening on http://127.0.0.1:${server.address().port}/graphql\n`));

const shutdown = () => {
  server.closeAllConnections();
  server.close(() => void pool.close().then(() => process.exit(0)));
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
