/**
 * A credential is checked the same way whichever transport brings it (an HTTP header or graphql-ws
 * `connectionParams`): a malformed or oversized one is refused before any upstream request, is never
 * printed, and never opens the circuit breaker for everyone else.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startSimulator } from '@buildgate/simulator';
import { parseConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startGateway } from '../src/server.js';
import { rawGraphQLSocket } from './helpers/raw-ws.js';
import { type Stack, codes, stackOf } from './helpers/stack.js';

const QUERY = '{ project(upstream: "gitlab", id: "1") { builds(first: 1) { nodes { id } } } }';
const CONTROL_TOKEN = 'glpat-developer\u0001secret-ctl';
const HUGE_TOKEN = `glpat-${'h'.repeat(100_000)}`;

let stack: Stack;
let logLines = '';
beforeAll(async () => {
  const simulator = await startSimulator({ port: 0 });
  const config = parseConfig({
    port: 0,
    host: '127.0.0.1',
    upstreams: [
      // A low threshold and retries on: had a refused request counted as a fault, one bad client would open it.
      { name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${simulator.url}/api/v4`, breakerThreshold: 2, retries: 2 },
      // A service credential undici will not send (a control byte): the gateway's own refusal, not a fault.
      { name: 'badservice', kind: 'gitlab-v4', baseUrl: `${simulator.url}/api/v4`, token: 'glpat-x\u0001y', breakerThreshold: 1 },
    ],
  });
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logLines += String(chunk);
      done();
    },
  });
  const gateway = await startGateway(config, { logger: createLogger({ level: 'debug', destination }) });
  stack = stackOf(simulator, gateway);
});
afterAll(() => stack?.close());

async function breakerStates(): Promise<Record<string, string>> {
  const text = await (await fetch(stack.gateway.url.replace('/graphql', '/metrics'))).text();
  const states: Record<string, string> = {};
  for (const [, upstream, state] of text.matchAll(/buildgate_upstream_circuit_state\{upstream="([^"]+)",state="([^"]+)"\} 1/g)) states[upstream!] = state!;
  return states;
}

describe('HTTP headers', () => {
  it('an oversized or non-ASCII credential is UNAUTHENTICATED with no upstream request, and the breaker stays closed', async () => {
    await stack.resetStats();
    for (let i = 0; i < 4; i++) {
      const long = await stack.graphql(QUERY, undefined, { 'PRIVATE-TOKEN': `glpat-${'x'.repeat(8000)}` });
      expect(codes(long)).toEqual(['UNAUTHENTICATED']);
      expect(long.errors![0]!.message).not.toContain('xxxx');
      const latin1 = await stack.graphql(QUERY, undefined, { 'PRIVATE-TOKEN': 'glpat-d\u00e9veloper' });
      expect(codes(latin1)).toEqual(['UNAUTHENTICATED']);
      const bearer = await stack.graphql(QUERY, undefined, { authorization: `Bearer ${'y'.repeat(5000)}` });
      expect(codes(bearer)).toEqual(['UNAUTHENTICATED']);
    }
    expect((await stack.stats()).total).toBe(0);
    const good = await stack.graphql(QUERY, undefined, { 'PRIVATE-TOKEN': 'glpat-developer' });
    expect(good.errors).toBeUndefined();
    expect(good.data!.project.builds.nodes).toHaveLength(1);
    expect((await breakerStates()).gitlab).toBe('closed');
  });

  it('an upstream 4xx (a wrong but well-formed token) is not an upstream fault', async () => {
    for (let i = 0; i < 4; i++) {
      expect(codes(await stack.graphql(QUERY, undefined, { 'PRIVATE-TOKEN': 'glpat-wrong' }))).toEqual(['UNAUTHENTICATED']);
    }
    expect((await breakerStates()).gitlab).toBe('closed');
    expect((await stack.graphql(QUERY)).errors).toBeUndefined();
  });

  it('a request undici refuses to build (a bad service credential) is BAD_USER_INPUT and opens no breaker', async () => {
    await stack.resetStats();
    for (let i = 0; i < 3; i++) {
      const result = await stack.graphql('{ project(upstream: "badservice", id: "1") { name } }');
      expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    }
    expect((await stack.stats()).total).toBe(0);
    expect((await breakerStates()).badservice).toBe('closed');
  });
});

describe('graphql-ws connectionParams', () => {
  it('a token with a control byte, an oversized one or a non-string one closes the socket 4403 before any upstream request; nothing prints it', async () => {
    const printed: string[] = [];
    const spies = (['error', 'warn', 'log', 'info'] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(' '))),
    );
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: any) => (printed.push(String(chunk)), true));
    try {
      await stack.resetStats();
      for (const params of [{ 'PRIVATE-TOKEN': CONTROL_TOKEN }, { 'PRIVATE-TOKEN': HUGE_TOKEN }, { authorization: 42 }, { 'x-devops-uid': 'u\u0000' }]) {
        const raw = await rawGraphQLSocket(stack.gateway.url, params);
        // Had the socket been let in, this query would reach the upstream with that token.
        raw.send({ id: '1', type: 'subscribe', payload: { query: QUERY } });
        const { code, reason } = await raw.closed;
        expect(code).toBe(4403);
        expect(reason).toBe('Forbidden');
        expect(raw.messages.filter((m) => m.type === 'next')).toEqual([]);
      }
      expect((await stack.stats()).total).toBe(0);
    } finally {
      for (const spy of spies) spy.mockRestore();
      stderr.mockRestore();
    }
    const output = printed.join('\n');
    expect(output).not.toContain('secret-ctl');
    expect(output).not.toContain('hhhhhhhh');
    expect(logLines).toContain('ws_refused');
    expect(logLines).not.toContain('secret-ctl');
    expect(logLines).not.toContain('hhhhhhhh');
    // A good client on the same gateway is served, and the breaker never moved.
    const good = await rawGraphQLSocket(stack.gateway.url, { 'PRIVATE-TOKEN': 'glpat-developer' });
    good.send({ id: 'q', type: 'subscribe', payload: { query: QUERY } });
    const next = await good.next((m) => m.type === 'next');
    expect(next.payload.errors).toBeUndefined();
    expect(next.payload.data.project.builds.nodes).toHaveLength(1);
    good.socket.close();
    expect((await breakerStates()).gitlab).toBe('closed');
  });
});
