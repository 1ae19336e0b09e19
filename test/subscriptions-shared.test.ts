/**
 * Watchers of one build with the same `buildTrace` document share one execution and one serialization
 * of each chunk (plugins/use-shared-event-execution.ts): what each gets must stay its own — its
 * graphql-ws operation id, its access (checked per credential, at subscribe time and by rechecks), and
 * every byte of the log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawGraphQLSocket } from './helpers/raw-ws.js';
import { type Stack, startStack } from './helpers/stack.js';
import { subscriptionClient, until } from './helpers/subscribe.js';

const TRACE = 'subscription($id: ID!) { buildTrace(id: $id) { offset nextOffset content complete } }';

interface Chunk {
  offset: number;
  nextOffset: number;
  content: string;
  complete: boolean;
}

let stack: Stack;
beforeAll(async () => {
  // No service token: each subscriber's own credential is what the gateway reads with.
  stack = await startStack({
    simulator: { tickMs: 30 },
    gateway: { trace: { pollIntervalMs: 30, maxPollIntervalMs: 120, recheckMs: 100 } } as never,
  });
});
afterAll(() => stack?.close());

async function post(path: string, body: unknown): Promise<any> {
  const response = await fetch(`${stack.simulator.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return response.json().catch(() => undefined);
}

/** A running job whose log grows every tick, and its global id (read with `token`). */
async function runningJob(project: number, token?: string): Promise<{ upstreamId: number; id: string }> {
  const job = await post('/__sim/jobs', { project, name: 'shared', logBytesPerTick: 300, totalBytes: 50_000_000 });
  const found = await stack.graphql(`{ project(upstream: "gitlab", id: "${project}") { build(id: "${job.id}") { id } } }`, undefined, token ? { 'PRIVATE-TOKEN': token } : {});
  return { upstreamId: job.id, id: found.data!.project.build.id };
}

async function upstreamLog(project: number, upstreamId: number): Promise<string> {
  return (await fetch(`${stack.simulator.url}/api/v4/projects/${project}/jobs/${upstreamId}/trace`, { headers: { 'PRIVATE-TOKEN': 'glpat-developer' } })).text();
}

/** The chunks' contents joined, after checking that each starts where the one before ended. */
function reassembled(chunks: Chunk[]): string {
  let next = 0;
  for (const chunk of chunks) {
    expect(chunk.offset).toBe(next);
    next = chunk.nextOffset;
  }
  return chunks.map((chunk) => chunk.content).join('');
}

describe('one execution per chunk for every watcher of a build', () => {
  it('each graphql-ws operation gets its own id on the shared JSON, and every byte, beside an SSE watcher', async () => {
    const job = await runningJob(1);
    const first = await rawGraphQLSocket(stack.gateway.url);
    const second = await rawGraphQLSocket(stack.gateway.url);
    for (const id of ['a', 'b']) first.send({ id, type: 'subscribe', payload: { query: TRACE, variables: { id: job.id } } });
    // The same id on another socket, and the same document over SSE: all four share each chunk's result.
    second.send({ id: 'a', type: 'subscribe', payload: { query: TRACE, variables: { id: job.id } } });
    const sse = subscriptionClient('sse', stack.gateway.url);
    const overSse = sse.subscribe<Chunk>(TRACE, { id: job.id });
    const nexts = (socket: typeof first, id: string) => socket.messages.filter((m) => m.id === id && m.type === 'next');
    await until(() => nexts(first, 'a').length >= 3 && nexts(first, 'b').length >= 3 && nexts(second, 'a').length >= 3 && overSse.values.length >= 3, 10_000, 'three chunks each');
    await post(`/__sim/jobs/${job.upstreamId}/finish`, { status: 'success' });
    await first.next((m) => m.id === 'a' && m.type === 'complete');
    await first.next((m) => m.id === 'b' && m.type === 'complete');
    await second.next((m) => m.id === 'a' && m.type === 'complete');
    const { errors } = await overSse.done;
    await sse.dispose();
    first.socket.close();
    second.socket.close();
    expect(errors).toBeUndefined();
    const log = await upstreamLog(1, job.upstreamId);
    expect(reassembled(overSse.values)).toBe(log);
    // Sent as bytes, each shared message is still a text frame, as graphql-ws speaks.
    expect([first.binaryFrames, second.binaryFrames]).toEqual([0, 0]);
    for (const [socket, id] of [[first, 'a'], [first, 'b'], [second, 'a']] as const) {
      const chunks = nexts(socket, id).map((m) => m.payload.data.buildTrace as Chunk);
      expect(reassembled(chunks)).toBe(log);
      expect(chunks.at(-1)!.complete).toBe(true);
    }
    // Nothing but the operations' own ids, and one complete each.
    expect(first.messages.filter((m) => m.type !== 'connection_ack' && m.id !== 'a' && m.id !== 'b')).toEqual([]);
    expect(first.messages.filter((m) => m.type === 'complete').map((m) => m.id).sort()).toEqual(['a', 'b']);
  });

  it('a refused credential gets its error and nothing else, and a revoked one stops, while another token sharing the chunks goes on', async () => {
    const revocable = `glpat-shared-${Date.now()}`;
    await post('/__sim/tokens', { token: revocable, like: 'glpat-developer' });
    // Project 2 is private: the outsider may not see it.
    const job = await runningJob(2, 'glpat-reporter');
    const reporter = subscriptionClient('ws', stack.gateway.url, { 'PRIVATE-TOKEN': 'glpat-reporter' });
    const doomed = subscriptionClient('sse', stack.gateway.url, { 'PRIVATE-TOKEN': revocable });
    const outsiders = [subscriptionClient('ws', stack.gateway.url, { 'PRIVATE-TOKEN': 'glpat-outsider' }), subscriptionClient('sse', stack.gateway.url, { 'PRIVATE-TOKEN': 'glpat-outsider' })];
    const kept = reporter.subscribe<Chunk>(TRACE, { id: job.id });
    const revoked = doomed.subscribe<Chunk>(TRACE, { id: job.id });
    await until(() => kept.values.length >= 2 && revoked.values.length >= 2, 10_000, 'two chunks each');
    // Refused while the others are receiving the same chunks.
    const refused = outsiders.map((client) => client.subscribe<Chunk>(TRACE, { id: job.id }));
    for (const sub of refused) {
      const { errors } = await sub.done;
      expect(sub.values).toEqual([]);
      expect(errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
    await fetch(`${stack.simulator.url}/__sim/tokens/${revocable}`, { method: 'DELETE' });
    const { errors: revokedErrors } = await revoked.done;
    expect(revokedErrors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const receivedWhenRevoked = revoked.values.length;
    const keptWhenRevoked = kept.values.length;
    await until(() => kept.values.length >= keptWhenRevoked + 3, 10_000, 'three more chunks for the token still allowed');
    await post(`/__sim/jobs/${job.upstreamId}/finish`, { status: 'success' });
    const { errors } = await kept.done;
    await Promise.all([reporter, doomed, ...outsiders].map((client) => client.dispose()));
    expect(errors).toBeUndefined();
    expect(revoked.values.length).toBe(receivedWhenRevoked);
    expect(reassembled(kept.values)).toBe(await upstreamLog(2, job.upstreamId));
  });
});

describe("yoga's SSE for shared events (use-shared-sse.ts)", () => {
  /** The raw text of a POST /graphql answered as SSE, read to its end (or until `until` holds). */
  async function sse(query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}, until?: (text: string) => boolean) {
    const response = await fetch(stack.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (until?.(text)) {
        await reader.cancel();
        break;
      }
    }
    return { response, text };
  }

  it('writes what yoga writes: a first ping, one `event: next` per chunk, `event: complete`; errors without internal extensions', async () => {
    const finished = await stack.graphql('{ project(upstream: "gitlab", id: "1") { build(id: "7") { id } } }');
    const { response, text } = await sse(TRACE, { id: finished.data!.project.build.id });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(text.startsWith(':\n\n')).toBe(true);
    expect(text.endsWith('event: complete\ndata:\n\n')).toBe(true);
    const events = text.split('\n\n').filter((part) => part.startsWith('event: next\n'));
    expect(events.length).toBeGreaterThan(0);
    const chunks = events.map((event) => JSON.parse(event.slice('event: next\ndata: '.length)).data.buildTrace as Chunk);
    expect(chunks.at(-1)!.complete).toBe(true);
    expect(reassembled(chunks)).toBe(await upstreamLog(1, 7));

    const hidden = await stack.graphql('{ project(upstream: "gitlab", id: "2") { builds(first: 1) { nodes { id } } } }', undefined, { 'PRIVATE-TOKEN': 'glpat-reporter' });
    const refused = await sse(TRACE, { id: hidden.data!.project.builds.nodes[0].id }, { 'PRIVATE-TOKEN': 'glpat-outsider' });
    const error = JSON.parse(refused.text.split('\n\n').find((part) => part.startsWith('event: next\n'))!.slice('event: next\ndata: '.length));
    expect(error.data).toBeUndefined();
    expect(error.errors[0].extensions.code).toBe('NOT_FOUND');
    expect(error.errors[0].extensions.http).toBeUndefined();
    expect(refused.text.endsWith('event: complete\ndata:\n\n')).toBe(true);
  });

  it('keeps every stream alive with pings between the shared chunks (one timer for all streams)', async () => {
    const job = await runningJob(1);
    const pings = (text: string) => text.split(':\n\n').length - 1;
    // Pings come every 300 ms under NODE_ENV=test, between the chunks (a chunk's text is JSON: no blank line).
    const [a, b] = await Promise.all([
      sse(TRACE, { id: job.id }, {}, (text) => pings(text) >= 3),
      sse(TRACE, { id: job.id }, {}, (text) => pings(text) >= 3),
    ]);
    expect(pings(a.text)).toBeGreaterThanOrEqual(3);
    expect(pings(b.text)).toBeGreaterThanOrEqual(3);
    await post(`/__sim/jobs/${job.upstreamId}/finish`, { status: 'success' });
  });
});
