/**
 * Issue #12 item 6: a project has one key however the client spelled it (numeric id with or without
 * leading zeros, `group/project` in any case, URL-encoded), and so does a build (`007` is `7`): one
 * poller for every spelling of a running build, one global id, and an erase through one spelling is
 * seen through every other, the finished-build cache included.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalId } from '../src/relay.js';
import { codes, type Stack, startStack } from './helpers/stack.js';
import { subscriptionClient, until } from './helpers/subscribe.js';

const TRACE_QUERY = 'subscription($id: ID!) { buildTrace(id: $id) { offset nextOffset content complete } }';
const PROJECT = 'GET /api/v4/projects/:id';
const JOB = 'GET /api/v4/projects/:id/jobs/:job_id';
const TRACE = 'GET /api/v4/projects/:id/jobs/:job_id/trace';
const DEVELOPER = { 'PRIVATE-TOKEN': 'glpat-developer' };

/** Twelve ways to write project 1 (`foo/bar`). */
const PROJECT_SPELLINGS = ['1', '01', '0001', 'foo/bar', 'FOO/BAR', 'Foo/Bar', 'fOO/bAR', 'foo%2Fbar', 'foo%2fbar', 'FOO%2FBAR', 'Foo%2fBar', '000001'];
const buildSpellings = (id: string) => [id, `0${id}`, `00${id}`];

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    simulator: { tickMs: 50 },
    gateway: { trace: { pollIntervalMs: 50, maxPollIntervalMs: 100 }, cache: { enabled: true } } as never,
  });
});
afterAll(() => stack?.close());

const simPost = (path: string, body: unknown) =>
  fetch(`${stack.simulator.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json()) as Promise<any>;

describe('one project, one key', () => {
  it('gives every spelling of a project and a build the same global ids', async () => {
    const ids = new Set<string>();
    const buildIds = new Set<string>();
    for (const [i, spelling] of PROJECT_SPELLINGS.entries()) {
      const result = await stack.graphql(`query($p: ID!, $b: ID!) { project(upstream: "gitlab", id: $p) { id upstreamId build(id: $b) { id project { id } } } }`, {
        p: spelling,
        b: buildSpellings('8')[i % 3],
      });
      expect(result.errors).toBeUndefined();
      expect(result.data!.project.upstreamId).toBe('1');
      ids.add(result.data!.project.id).add(result.data!.project.build.project.id);
      buildIds.add(result.data!.project.build.id);
    }
    expect(ids.size).toBe(1);
    expect(buildIds.size).toBe(1);
  });

  it('resolves a path once per credential, and never answers another credential from that', async () => {
    await stack.resetStats();
    const outsider = { 'PRIVATE-TOKEN': 'glpat-outsider' };
    const query = '{ project(upstream: "gitlab", id: "ACME%2FPRIVATE") { id } }';
    expect(codes(await stack.graphql(query, undefined, outsider))).toEqual(['NOT_FOUND']);
    const member = await stack.graphql(query, undefined, DEVELOPER);
    expect(member.errors).toBeUndefined();
    expect(member.data!.project.id).toBe(encodeGlobalId('Project', 'gitlab', '2'));
    await stack.graphql(query, undefined, DEVELOPER);
    // The developer's mapping is not the outsider's: it is asked again, and refused again.
    expect(codes(await stack.graphql(query, undefined, outsider))).toEqual(['NOT_FOUND']);
    expect((await stack.stats()).routes[PROJECT]).toBe(3);
  });

  it('refuses a spelling that decodes to something else than a project, before any request', async () => {
    await stack.resetStats();
    for (const bad of ['foo%2F..%2Fbar', '%zz', '0', '00', 'foo%2F%2E%2E']) {
      const result = await stack.graphql('query($p: ID!) { project(upstream: "gitlab", id: $p) { id builds { nodes { id } } } }', { p: bad });
      expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    }
    const result = await stack.graphql('{ project(upstream: "gitlab", id: "1") { build(id: "000") { id } } }');
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    expect((await stack.stats()).total).toBe(0);
  });

  it('runs one poller for twelve spellings of one running build', async () => {
    const job = await simPost('/__sim/jobs', { project: 1, name: 'identity', logBytesPerTick: 512, totalBytes: 50_000_000 });
    const ids = PROJECT_SPELLINGS.map((project, i) => encodeGlobalId('Build', 'gitlab', project, buildSpellings(String(job.id))[i % 3]!));
    expect(new Set(ids).size).toBe(12);
    await stack.resetStats();
    const clients = ids.map((_, i) => subscriptionClient(i % 2 ? 'ws' : 'sse', stack.gateway.url));
    const subs = ids.map((id, i) => clients[i]!.subscribe(TRACE_QUERY, { id }));
    try {
      await until(() => subs.every((sub) => sub.values.length > 0), 20_000, 'every subscriber to get the log');
      const { traceHub } = stack.gateway;
      expect(traceHub.stats.pollers).toBe(1);
      expect(traceHub.stats.subscribers).toBe(12);
      // Case and encoding aside, the paths are one lookup.
      expect((await stack.stats()).routes[PROJECT] ?? 0).toBeLessThanOrEqual(1);
      const poller = traceHub.poller({ upstream: 'gitlab', projectId: '1', locator: String(job.id) })!;
      expect(poller).toBeDefined();
      await stack.resetStats();
      const polls = poller.polls;
      await until(() => poller.polls >= polls + 10, 20_000, 'ten polls');
      const counted = poller.polls - polls;
      const { routes } = await stack.stats();
      // One trace read per poll of the one poller (give or take the poll in flight), not twelve.
      expect(routes[TRACE]).toBeGreaterThanOrEqual(counted - 1);
      expect(routes[TRACE]).toBeLessThanOrEqual(counted + 1);
    } finally {
      for (const sub of subs) sub.stop();
      await Promise.all(clients.map((client) => client.dispose()));
      await simPost(`/__sim/jobs/${job.id}/finish`, { status: 'success' });
    }
  });

  it('shows an erase through one spelling through every other, the cache and the mutation\'s answer included', async () => {
    const list = await stack.graphql('{ project(upstream: "gitlab", id: "1") { builds(scope: [SUCCESS, FAILED], first: 20) { nodes { upstreamId } } } }', undefined, DEVELOPER);
    const read = (project: string, build: string) =>
      stack.graphql(`query($p: ID!, $b: ID!) { project(upstream: "gitlab", id: $p) { build(id: $b) { erasedAt trace { content } } } }`, { p: project, b: build }, DEVELOPER);
    let upstreamId: string | undefined;
    for (const node of list.data!.project.builds.nodes) {
      const found = await read('FOO%2FBAR', node.upstreamId);
      if (found.data?.project.build.trace.content && !found.data.project.build.erasedAt) {
        upstreamId = node.upstreamId;
        break;
      }
    }
    expect(upstreamId).toBeDefined();
    await read('foo/bar', `0${upstreamId}`);
    // Both spellings are served from the cache now.
    await stack.resetStats();
    expect((await read('FOO%2FBAR', upstreamId!)).data!.project.build.trace.content).not.toBe('');
    expect((await stack.stats()).routes[TRACE]).toBeUndefined();

    const erased = await stack.graphql('mutation($id: ID!) { eraseBuild(id: $id) { build { erasedAt trace { content } } } }', {
      id: encodeGlobalId('Build', 'gitlab', '0001', `00${upstreamId}`),
    }, DEVELOPER);
    expect(erased.errors).toBeUndefined();
    expect(erased.data!.eraseBuild.build.trace.content).toBe('');
    await stack.resetStats();
    for (const [project, build] of [['FOO%2FBAR', upstreamId!], ['foo/bar', `0${upstreamId}`], ['1', upstreamId!]] as const) {
      const after = await read(project, build);
      expect(after.data!.project.build.erasedAt).toEqual(expect.any(String));
      expect(after.data!.project.build.trace.content).toBe('');
    }
    // The erased build was read again once (then cached under its one key), never served stale.
    expect((await stack.stats()).routes[JOB]).toBe(1);
  });
});
