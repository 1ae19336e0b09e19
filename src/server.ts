/**
 * Wires yoga to a node:http server: schema, per-request context, GraphiQL from local assets, and an
 * explicit lifecycle (`close()` stops accepting, ends connections and closes the upstream pools).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { createYoga, type Plugin } from 'graphql-yoga';
import type { GatewayConfig } from './config.js';
import { type GatewayContext, createContextFactory } from './context.js';
import { buildSchema } from './schema.js';
import { UpstreamRegistry } from './upstreams/index.js';

export interface Gateway {
  /** e.g. http://127.0.0.1:4000/graphql */
  url: string;
  port: number;
  server: Server;
  registry: UpstreamRegistry;
  close(): Promise<void>;
}

export function exampleQuery(config: GatewayConfig): string {
  const upstream = config.upstreams[0];
  const name = JSON.stringify(upstream?.name ?? 'gitlab');
  const project = JSON.stringify(upstream?.exampleProject ?? '1');
  return `# buildgate: one GraphQL schema over the builds of GitLab (v4, v3) and bk-ci.
# Press the run button. Then page on with builds(first: 10, after: "<endCursor>"),
# or try retryBuild / cancelBuild with a build's id.
query RecentBuilds {
  project(upstream: ${name}, id: ${project}) {
    name
    path
    builds(first: 10) {
      nodes {
        id
        name
        stage
        status
        ref
        duration
        webUrl
        commit { shortId title }
        pipeline { upstreamId status }
        user { username }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
}
`;
}

/** The GraphiQL page inlines ~9 MB of assets: render it once, not per visit. */
function memoizedGraphiQL(): typeof renderGraphiQL {
  const pages = new Map<string, string>();
  return (options) => {
    const key = JSON.stringify(options ?? {});
    let page = pages.get(key);
    if (page === undefined) pages.set(key, (page = renderGraphiQL(options)));
    return page;
  };
}

/** `/` is not an API: send people to GraphiQL. */
function useRootRedirect(): Plugin {
  return {
    onRequest({ url, request, endResponse, fetchAPI }) {
      if (url.pathname === '/' && request.method === 'GET') {
        endResponse(new fetchAPI.Response(null, { status: 302, headers: { location: '/graphql' } }));
      }
    },
  };
}

export async function startGateway(config: GatewayConfig): Promise<Gateway> {
  const registry = new UpstreamRegistry(config.upstreams);
  const yoga = createYoga<object, GatewayContext>({
    schema: buildSchema(),
    graphqlEndpoint: '/graphql',
    context: createContextFactory(config, registry) as never,
    graphiql: config.graphiql && { title: 'buildgate', defaultQuery: exampleQuery(config) },
    renderGraphiQL: memoizedGraphiQL(),
    landingPage: false,
    maskedErrors: true,
    plugins: [useRootRedirect()],
  });
  const server = createServer(yoga);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}/graphql`,
    port,
    server,
    registry,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await yoga.dispose();
        server.closeAllConnections();
        await closed;
        await registry.close();
      })();
      return closing;
    },
  };
}
