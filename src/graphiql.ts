/**
 * GraphiQL, served from the gateway's own assets (no CDN): the page is rendered once, with example
 * operations for each configured upstream kind preloaded as tabs.
 */
import type { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import type { GatewayConfig } from './config.js';
import { encodeGlobalId } from './relay.js';

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

/**
 * The GraphiQL page inlines ~9 MB of assets: render it once, not per visit. The module is loaded only
 * when GraphiQL is on: its sources hold ~30 MB of the heap for as long as the process lives.
 */
export async function memoizedGraphiQL(): Promise<typeof renderGraphiQL> {
  const { renderGraphiQL } = await import('@graphql-yoga/render-graphiql');
  const pages = new Map<string, string>();
  return (options) => {
    const key = JSON.stringify(options ?? {});
    let page = pages.get(key);
    if (page === undefined) pages.set(key, (page = renderGraphiQL(options)));
    return page;
  };
}

interface Tab {
  query: string;
  variables?: string;
}

/**
 * One tab per example: the preloaded query, a list for every other upstream, and — on the first
 * upstream that names an `exampleBuild` — a mutation and a trace subscription on that build.
 */
export function exampleTabs(config: GatewayConfig): Tab[] {
  const tabs: Tab[] = [{ query: exampleQuery(config) }];
  for (const upstream of config.upstreams.slice(1)) {
    tabs.push({
      query: `# ${upstream.kind}: the same schema, another upstream.
query ${upstream.name.replace(/[^A-Za-z0-9]/g, '')}Builds {
  project(upstream: ${JSON.stringify(upstream.name)}, id: ${JSON.stringify(upstream.exampleProject)}) {
    builds(first: 5) {
      nodes { id name status upstreamStatus attempt startedAt duration stages { name status } }
    }
  }
}
`,
    });
  }
  const withBuild = config.upstreams.find((upstream) => upstream.exampleBuild);
  if (withBuild?.exampleBuild) {
    const variables = JSON.stringify({ id: encodeGlobalId('Build', withBuild.name, withBuild.exampleProject, withBuild.exampleBuild) }, null, 2);
    tabs.push({
      query: `# Retry a finished build. GitLab answers with a new build; bk-ci runs the same one again.
mutation Retry($id: ID!) {
  retryBuild(id: $id) {
    build { id upstreamId name status attempt }
  }
}
`,
      variables,
    });
    tabs.push({
      query: `# A build's log as it grows: pieces arrive until the build ends.
subscription Tail($id: ID!) {
  buildTrace(id: $id) {
    offset
    nextOffset
    complete
    lines
    sections { name event collapsed }
  }
}
`,
      variables,
    });
  }
  return tabs;
}
