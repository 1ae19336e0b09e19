/**
 * `economy`: what a fixed set of nested queries costs the upstream. For each query: the upstream
 * requests it made (the simulator's /__sim/stats, reset before, read after), the naive count (one
 * request per entity-valued field per build) and the minimum (one request per list or entity the
 * upstream cannot embed; 1 + distinct entities for fields the list does not embed). Fails (exit 1) if
 * any query costs more than its minimum.
 */
import { gql, resetSimStats, simStats } from '../lib/http.mjs';
import { assertAlive, embeddedStyleUpstreams, startGateway, startSimulator } from '../lib/procs.mjs';
import { table } from '../lib/report.mjs';

const EMBEDDED = `id pipeline { id createdAt } commit { sha message } user { id name }`;
const PIPELINE_USER = `id pipeline { id duration user { username } } commit { sha message } user { id name }`;
const LIST_FIELDS = `id name status commit { sha title } pipeline { upstreamId status } user { username }`;

const distinct = (values) => new Set(values).size;
const nodesOf = (project) => project.builds.nodes;

/**
 * Each query: its text, variables, and naive/minimum counts computed from its answer. `entityFields`
 * is the number of entity-valued fields per build the naive count charges one request each.
 */
/** The feed over three GitLab projects (the 3 sources × 20 builds) and over all three kinds. */
const FEED_GITLAB = [
  { upstream: 'gitlab', project: '1' },
  { upstream: 'gitlab', project: '2' },
  { upstream: 'gitlab-v3', project: '1' },
];
const FEED_KINDS = [
  { upstream: 'gitlab', project: '1' },
  { upstream: 'gitlab-v3', project: '2' },
  { upstream: 'bkci', project: 'demo' },
];
const FEED_QUERY = `query($sources: [BuildSource!]!, $after: String) {
  builds(sources: $sources, first: 20, after: $after) { nodes { ${LIST_FIELDS} } pageInfo { endCursor } } }`;

function queries(buildId, feed) {
  const list = (first, fields, entityFields, minimum) => ({
    query: `{ project(upstream:"gitlab", id:"1") { builds(first: ${first}) { nodes { ${fields} } } } }`,
    naive: (data) => 1 + nodesOf(data.project).length * entityFields,
    minimum,
  });
  return [
    {
      name: '20 builds + pipeline { createdAt } commit { message } user { name }',
      ...list(20, EMBEDDED, 3, () => 1),
      why: 'all embedded in the jobs list',
    },
    {
      name: '100 builds + pipeline { createdAt } commit { message } user { name }',
      ...list(100, EMBEDDED, 3, () => 1),
      why: 'all embedded in the jobs list',
    },
    {
      name: '20 builds + pipeline { duration user { username } } commit { message } user { name }',
      ...list(20, PIPELINE_USER, 4, (data) => 1 + distinct(nodesOf(data.project).map((b) => b.pipeline.id))),
      why: '1 list + 1 per distinct pipeline (duration, user: not in the list\'s pipeline)',
    },
    {
      name: '100 builds + pipeline { duration user { username } } commit { message } user { name }',
      ...list(100, PIPELINE_USER, 4, (data) => 1 + distinct(nodesOf(data.project).map((b) => b.pipeline.id))),
      why: '1 list + 1 per distinct pipeline',
    },
    {
      name: "a build's pipeline's builds (first: 100) + commit { message } user { name }",
      query: `query($id: ID!) { build(id: $id) { id pipeline { id builds(first: 100) { nodes { id name status commit { sha message } user { name } } } } } }`,
      variables: { id: buildId },
      // build + pipeline + the pipeline's jobs list, then commit and user per build.
      naive: (data) => 3 + data.build.pipeline.builds.nodes.length * 2,
      minimum: () => 2,
      why: 'the job, then its pipeline\'s jobs list (the pipeline id is embedded in the job)',
    },
    {
      name: 'three projects at once (gitlab 1, gitlab 2, gitlab-v3 1), 20 builds each',
      query: `{ a: project(upstream:"gitlab", id:"1") { builds(first: 20) { nodes { ${LIST_FIELDS} } } }
              b: project(upstream:"gitlab", id:"2") { builds(first: 20) { nodes { ${LIST_FIELDS} } } }
              c: project(upstream:"gitlab-v3", id:"1") { builds(first: 20) { nodes { ${LIST_FIELDS} } } } }`,
      naive: (data) => 3 + ['a', 'b', 'c'].reduce((sum, key) => sum + nodesOf(data[key]).length * 3, 0),
      minimum: () => 3,
      why: 'one list per project; commit, pipeline and user embedded',
    },
    {
      name: 'feed: builds(sources: gitlab 1, gitlab 2, gitlab-v3 1, first: 20), first page',
      query: FEED_QUERY,
      variables: { sources: FEED_GITLAB },
      naive: (data) => 3 + data.builds.nodes.length * 3,
      minimum: () => 3,
      why: 'one upstream page of 20 per source; commit, pipeline and user embedded',
    },
    {
      name: 'feed: the same, second page (after its endCursor)',
      query: FEED_QUERY,
      variables: { sources: FEED_GITLAB, after: feed.gitlabCursor },
      naive: (data) => 3 + data.builds.nodes.length * 3,
      minimum: () => 3,
      why: 'at most one upstream page per source, and only for the sources the merge reaches',
    },
    {
      name: 'feed: builds(sources: gitlab 1, gitlab-v3 2, bkci demo, first: 20), first page',
      query: FEED_QUERY,
      variables: { sources: FEED_KINDS },
      naive: (data) => 3 + data.builds.nodes.length * 3,
      minimum: () => 2 + feed.bkciPage,
      why: `one page per GitLab source + what one page of bkci demo costs alone (${feed.bkciPage}: its pipelines, their histories, the pipelines' status)`,
    },
  ];
}

export async function runEconomy() {
  const sim = await startSimulator([]);
  const gateway = await startGateway({ upstreams: embeddedStyleUpstreams(sim.url) });
  try {
    const first = await gql(gateway.url, `{ project(upstream:"gitlab", id:"1") { builds(first: 1) { nodes { id } } } }`);
    const buildId = first.project.builds.nodes[0].id;
    const feedPage = await gql(gateway.url, FEED_QUERY, { sources: FEED_GITLAB });
    await resetSimStats(sim.url);
    await gql(gateway.url, `{ project(upstream:"bkci", id:"demo") { builds(first: 20) { nodes { ${LIST_FIELDS} } } } }`);
    const feed = { gitlabCursor: feedPage.builds.pageInfo.endCursor, bkciPage: (await simStats(sim.url)).total };
    const rows = [];
    const over = [];
    for (const q of queries(buildId, feed)) {
      await resetSimStats(sim.url);
      const data = await gql(gateway.url, q.query, q.variables);
      const stats = await simStats(sim.url);
      assertAlive(sim, gateway);
      const cost = stats.total;
      const minimum = q.minimum(data);
      const naive = q.naive(data);
      const routes = Object.entries(stats.routes)
        .map(([route, n]) => `${n}× ${route.replace(/^GET /, '')}`)
        .join('; ');
      if (cost > minimum) over.push(`${q.name}: ${cost} > ${minimum}`);
      rows.push([q.name, cost, naive, minimum, cost <= minimum ? 'ok' : 'OVER', routes, q.why]);
    }
    const text = table(['query', 'upstream requests', 'naive', 'minimum', '', 'what it cost', 'minimum because'], rows);
    return {
      text,
      notes: [
        'Gateway over the three embedded-style upstreams (gitlab v4, gitlab-v3, bkci; service tokens glpat-developer and X-DEVOPS-UID alice), default simulator data.',
        'naive = one request per entity-valued field per build (pipeline, commit, user; pipeline.user counts too) plus one per list or root entity.',
      ],
      failed: over.length ? `over the minimum: ${over.join(' | ')}` : undefined,
    };
  } finally {
    await Promise.all([gateway.stop(), sim.stop()]);
  }
}
