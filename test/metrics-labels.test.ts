/**
 * Metric labels come from bounded sets (issue #12, 8c): client-chosen operation names and project
 * paths never become new series in /metrics. Operation names are labels only when the operator lists
 * them in `metrics.operationNames`.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTHER_ROUTE, routeOf } from '../src/upstreams/routes.js';
import { type Stack, startStack } from './helpers/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ upstream: { token: 'glpat-developer' }, gateway: { metrics: { operationNames: ['Listed'] } } });
});
afterAll(() => stack?.close());

const metrics = async () => (await fetch(stack.gateway.url.replace('/graphql', '/metrics'))).text();
/** The gateway's own metrics: Node's default ones (heap, GC kinds) come and go on their own. */
const ownLines = (text: string) => text.split('\n').filter((line) => !/^(# (HELP|TYPE) )?buildgate_(process|nodejs)_/.test(line));
const ownBytes = (text: string) => ownLines(text).join('\n').length;
/** Every series (name and labels, without its value) of the gateway's own metrics. */
const seriesOf = (text: string) => new Set(ownLines(text).filter((line) => line.startsWith('buildgate_')).map((line) => line.slice(0, line.lastIndexOf(' '))));
const randomName = () => `Op_${randomBytes(12).toString('hex')}`;
const projectQuery = (id: string, name = 'Projects') => `query ${name} { project(upstream: "gitlab", id: ${JSON.stringify(id)}) { name } }`;

describe('metric labels', () => {
  it('300 random operation names and 40 random project paths add no series and only bytes of counts', async () => {
    // One of each kind first, so every series the flood can touch already exists (`Projects` is unlisted: `other`).
    await stack.graphql('{ upstreams { name } }');
    await stack.graphql('query Listed { upstreams { name } }');
    await stack.graphql(`query ${randomName()} { upstreams { name } }`);
    await stack.graphql(projectQuery('1'));
    await stack.graphql(projectQuery(`warmup-${randomBytes(6).toString('hex')}`));
    const before = await metrics();
    await stack.resetStats();

    for (let i = 0; i < 300; i++) await stack.graphql(`query ${randomName()} { upstreams { name } }`);
    for (let i = 0; i < 40; i++) await stack.graphql(projectQuery(`p${randomBytes(6).toString('hex')}`));
    const after = await metrics();

    expect((await stack.stats()).total).toBe(40);
    expect([...seriesOf(after)].filter((series) => !seriesOf(before).has(series))).toEqual([]);
    // Counts and sums grow by a few digits each; one new histogram series alone would be ~1.5 KB.
    expect(ownBytes(after) - ownBytes(before)).toBeLessThan(1024);
    expect(after).toMatch(/buildgate_graphql_operation_duration_seconds_count\{operation="other",type="query",outcome="ok"\} 302/);
    expect(after).toMatch(/operation="Listed",type="query",outcome="ok"\} 1/);
    expect(after).toMatch(/operation="anonymous",type="query",outcome="ok"\} 1/);
    expect(after).toMatch(/upstream="gitlab",method="GET",route="\/projects\/:id",status="404"\} 41/);
    expect(after).not.toMatch(/Op_[0-9a-f]{24}|route="\/projects\/p[0-9a-f]{12}/);
  });

  it('labels each run of one document by the operation chosen and by its own outcome', async () => {
    // One text, two operations; the query run twice, answered and then failing (an unknown upstream).
    const document = `query Listed($upstream: String!) { project(upstream: $upstream, id: "1") { name } } mutation Other { retryBuild(id: "x") { build { id } } }`;
    const count = (text: string, operation: string, type: string, outcome: string) =>
      Number(new RegExp(`operation_duration_seconds_count\\{operation="${operation}",type="${type}",outcome="${outcome}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
    const before = await metrics();
    const post = (body: object) =>
      fetch(stack.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: document, ...body }) });
    await post({ operationName: 'Listed', variables: { upstream: 'gitlab' } });
    await post({ operationName: 'Listed', variables: { upstream: 'no-such-upstream' } });
    await post({ operationName: 'Other' });
    const after = await metrics();
    expect(count(after, 'Listed', 'query', 'ok') - count(before, 'Listed', 'query', 'ok')).toBe(1);
    expect(count(after, 'Listed', 'query', 'error') - count(before, 'Listed', 'query', 'error')).toBe(1);
    expect(count(after, 'other', 'mutation', 'error') - count(before, 'other', 'mutation', 'error')).toBe(1);
  });

  it('maps every upstream path to a template, anything unknown to "other"', () => {
    expect(routeOf('/projects/my-project/jobs?page=2')).toBe('/projects/:id/jobs');
    expect(routeOf('/projects/group%2Fsub%2Fproject/jobs/42/trace')).toBe('/projects/:id/jobs/:id/trace');
    expect(routeOf('/projects/projects/pipelines/7/bridges')).toBe('/projects/:id/pipelines/:id/bridges');
    expect(routeOf('/projects/1/repository/commits/0123abcd/builds')).toBe('/projects/:id/repository/commits/:id/builds');
    expect(routeOf('/projects/1/builds/commit/0123abcd')).toBe('/projects/:id/builds/commit/:id');
    expect(routeOf('/projects/demo/pipelines/p-1/builds/history')).toBe('/projects/:id/pipelines/:id/builds/history');
    expect(routeOf('/projects/demo/pipelines/p-1/builds/b-2/logs/after')).toBe('/projects/:id/pipelines/:id/builds/:id/logs/after');
    expect(routeOf('/users/alice')).toBe('/users/:id');
    expect(routeOf('')).toBe('');
    for (const path of ['/whatever', '/projects/1/whatever', 'relative/path', `/projects${'/jobs/1'.repeat(10)}`]) expect(routeOf(path)).toBe(OTHER_ROUTE);
  });
});
