/**
 * GraphiQL, served from the gateway's own assets (no CDN): the page is rendered once, with example
 * operations for each configured upstream kind preloaded as tabs, and sent compressed and revalidated;
 * its script, CSS and icon are the files `npm run build` compressed (graphiql-assets.ts).
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Plugin } from 'graphql-yoga';
import type { GatewayConfig } from './config.js';
import { type Encoding, type GraphiQLPageOptions, GRAPHIQL_ASSET_DIR, assetServer, loadGraphiQLAssets, pickEncoding, renderGraphiQLPage } from './graphiql-assets.js';
import { encodeGlobalId } from './relay.js';

export { type GraphiQLPageOptions, pickEncoding } from './graphiql-assets.js';

const gzip = promisify(zlib.gzip);
const brotli = promisify(zlib.brotliCompress);

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

interface PageVariant {
  body: Uint8Array;
  encoding?: Encoding;
}

/**
 * GraphiQL at `endpoint` for a GET that accepts `text/html`, as yoga would serve it, but rendered once,
 * compressed once per encoding on first demand (a few KB: milliseconds), and revalidated by ETag: a
 * browser that has the page gets 304. `no-cache` rather than a lifetime, since the page changes with the
 * configuration. Its assets, at `<endpoint>/graphiql-assets/<name>`, are sent as built (brotli, gzip or
 * plain) and cached for a year: their names change with their content. A build without them fails here,
 * at start-up.
 */
export function useGraphiQLPage(endpoint: string, options: GraphiQLPageOptions, assetDir = GRAPHIQL_ASSET_DIR): Plugin {
  const assets = loadGraphiQLAssets(assetDir);
  const assetBase = `${endpoint}/graphiql-assets`;
  const serveAsset = assetServer(assets);
  let page: { etag: string; variants: Map<string, Promise<PageVariant>> } | undefined;
  const render = () => {
    const html = Buffer.from(renderGraphiQLPage(options, assets, assetBase));
    const etag = `"${createHash('sha256').update(html).digest('base64url').slice(0, 27)}"`;
    return { etag, variants: new Map<string, Promise<PageVariant>>([['identity', Promise.resolve({ body: html })]]) };
  };
  const variantOf = (variants: Map<string, Promise<PageVariant>>, encoding: Encoding | undefined): Promise<PageVariant> => {
    const key = encoding ?? 'identity';
    let variant = variants.get(key);
    if (!variant) {
      const html = variants.get('identity')!;
      variant = html.then(async ({ body }) => ({
        body: encoding === 'br' ? await brotli(body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }) : await gzip(body, { level: 9 }),
        encoding,
      }));
      variants.set(key, variant);
    }
    return variant;
  };
  type OnRequest = NonNullable<Plugin['onRequest']>;
  const answer = async ({ request, url, endResponse, fetchAPI }: Parameters<OnRequest>[0]): Promise<void> => {
    if (url.pathname.startsWith(`${assetBase}/`)) {
      const reply = serveAsset(url.pathname.slice(assetBase.length + 1), request.headers.get('accept-encoding'));
      if (!reply) return;
      const { body, type, encoding } = await reply;
      const headers: Record<string, string> = { 'content-type': type, 'content-length': String(body.length), 'cache-control': 'public, max-age=31536000, immutable', vary: 'Accept-Encoding' };
      if (encoding) headers['content-encoding'] = encoding;
      endResponse(new fetchAPI.Response(body as unknown as BodyInit, { status: 200, headers }));
      return;
    }
    if (!request.headers.get('accept')?.includes('text/html')) return;
    if (url.pathname !== endpoint && url.pathname !== `${endpoint}/`) return;
    page ??= render();
    const { etag, variants } = page;
    const headers: Record<string, string> = { 'content-type': 'text/html; charset=utf-8', etag, 'cache-control': 'no-cache', vary: 'Accept-Encoding' };
    if (request.headers.get('if-none-match')?.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag)) {
      endResponse(new fetchAPI.Response(null, { status: 304, headers }));
      return;
    }
    const { body, encoding } = await variantOf(variants, pickEncoding(request.headers.get('accept-encoding')));
    if (encoding) headers['content-encoding'] = encoding;
    headers['content-length'] = String(body.length);
    // A Buffer is a valid body; the DOM typings of BodyInit do not say so.
    endResponse(new fetchAPI.Response(body as unknown as BodyInit, { status: 200, headers }));
  };
  return {
    // Every POST (each GraphQL operation) passes here: it returns at once, with no promise to wait on.
    onRequest: (payload) => (payload.request.method === 'GET' ? answer(payload) : undefined),
  };
}

interface Tab {
  query: string;
  variables?: string;
}

/** The feed's `sources` literal: each configured upstream's example project (at most 20, the feed's bound). */
function feedSources(config: GatewayConfig): string {
  const sources = config.upstreams.slice(0, 20).map((upstream) => `    { upstream: ${JSON.stringify(upstream.name)}, project: ${JSON.stringify(upstream.exampleProject)} }`);
  return sources.length ? `[\n${sources.join('\n')}\n  ]` : '[{ upstream: "gitlab", project: "1" }]';
}

/** One feed across every configured upstream (issue #15: `Query.builds(sources: …)`). */
export function feedTab(config: GatewayConfig): Tab {
  return {
    query: `# One feed across upstreams and projects: newest first by createdAt, one cursor for every
# source. Page on with after: "<endCursor>"; filter with scope: [FAILED, RUNNING].
query Feed {
  builds(sources: ${feedSources(config)}, first: 20) {
    nodes { id upstream name status createdAt webUrl project { upstreamId } }
    pageInfo { hasNextPage endCursor }
  }
}
`,
  };
}

/** Why a build failed: its first explaining line at once, its log deferred (issue #15: `Build.failure`, `@defer`). */
export function failureTab(variables: string): Tab {
  return {
    query: `# Why did it fail? \`failure\` is the first line that explains it (the failed section, an
# error signature, the upstream's failure reason); null for a build that did not fail.
# The log is deferred: the answer comes at once, the log in a second part.
query WhyFailed($id: ID!) {
  build(id: $id) {
    name
    status
    failureReason
    failure { line lineNumber offset section }
    ... @defer(label: "log") { trace(limit: 65536) { content complete } }
  }
}
`,
    variables,
  };
}

/** A search through a build's log, streamed, on a linear-time engine (issue #15: `Build.logSearch`). */
export function logSearchTab(variables: string): Tab {
  return {
    query: `# Search a build's log: literal by default, regex: true for a (linear-time) regular expression,
# context: N lines around each match. scannedBytes says how much was read, truncated whether
# limits.maxSearchBytes stopped it.
query LogSearch($id: ID!) {
  build(id: $id) {
    name
    logSearch(pattern: "error", caseSensitive: false, context: 2, first: 10) {
      matches { lineNumber offset line }
      scannedBytes
      truncated
    }
  }
}
`,
    variables,
  };
}

const idVariables = (upstream: { name: string; exampleProject: string }, build: string) =>
  JSON.stringify({ id: encodeGlobalId('Build', upstream.name, upstream.exampleProject, build) }, null, 2);

/**
 * One tab per example: the preloaded query, a list for every other upstream, the feed across them,
 * and — on the first upstream that names an `exampleBuild` — its failure, a log search and a retry;
 * the Tail tab subscribes to the first `exampleLiveBuild` (a build running at start-up, so it streams
 * live), else to the `exampleBuild`.
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
  tabs.push(feedTab(config));
  const withBuild = config.upstreams.find((upstream) => upstream.exampleBuild);
  if (withBuild?.exampleBuild) {
    const variables = idVariables(withBuild, withBuild.exampleBuild);
    tabs.push(failureTab(variables), logSearchTab(variables));
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
  }
  const live = config.upstreams.find((upstream) => upstream.exampleLiveBuild) ?? withBuild;
  const liveBuild = live?.exampleLiveBuild ?? live?.exampleBuild;
  if (live && liveBuild) {
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
      variables: idVariables(live, liveBuild),
    });
  }
  return tabs;
}
