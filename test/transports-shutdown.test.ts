/**
 * Shutdown with subscriptions open on every streaming transport: each subscriber gets SHUTTING_DOWN
 * with the offset to resume from, and the process neither crashes nor waits for its timeout. In-process
 * (with uncaught errors watched) and as `npm start` runs it (`dist/main.js`, SIGTERM).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '@buildgate/simulator';
import { parseConfig } from '../src/config.js';
import { startGateway } from '../src/server.js';
import { runCli, waitForLine } from './helpers/cli.js';
import { type Transport, subscriptionClient, until } from './helpers/subscribe.js';

const TRACE = 'subscription($id: ID!) { buildTrace(id: $id) { offset nextOffset content } }';

async function runningBuild(graphqlUrl: string): Promise<string> {
  const response = await fetch(graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ project(upstream: "gitlab", id: "1") { builds(scope: [RUNNING], first: 1) { nodes { id } } } }' }),
  });
  const result = (await response.json()) as any;
  return result.data.project.builds.nodes[0].id;
}

let simulator: Simulator;
beforeAll(async () => {
  simulator = await startSimulator({ port: 0, jobTicks: 1000 });
});
afterAll(() => simulator?.close());

describe('gateway.close() with subscriptions open', () => {
  it('ends graphql-sse (both modes), yoga SSE and graphql-ws subscribers with SHUTTING_DOWN and their nextOffset; nothing is thrown', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUncaught);
    const gateway = await startGateway(
      parseConfig({
        port: 0,
        logLevel: 'silent',
        shutdownTimeoutMs: 5000,
        upstreams: [{ name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${simulator.url}/api/v4`, token: 'glpat-developer' }],
      }),
    );
    const id = await runningBuild(gateway.url);
    // graphql-sse single connection and distinct connections (/graphql/stream), yoga's SSE (/graphql), graphql-ws.
    const transports: Array<[string, Transport, string]> = [
      ['graphql-sse single', 'sse-single', gateway.url],
      ['graphql-sse distinct', 'sse', `${gateway.url}/stream`],
      ['yoga sse', 'sse', gateway.url],
      ['graphql-ws', 'ws', gateway.url],
    ];
    const clients = transports.map(([, transport, url]) => subscriptionClient(transport, url));
    const subs = clients.map((client) => client.subscribe<{ nextOffset: number }>(TRACE, { id }));
    await until(() => subs.every((sub) => sub.values.length > 0), 10_000, 'a first chunk on every transport');
    const started = Date.now();
    await gateway.close();
    const tookMs = Date.now() - started;
    for (const [i, sub] of subs.entries()) {
      const [label] = transports[i]!;
      const { errors } = await sub.done;
      expect(errors?.[0]?.extensions?.code, label).toBe('SHUTTING_DOWN');
      // yoga's own SSE passes the trace hub's error as it is; the transports built here add the offset.
      if (label !== 'yoga sse') expect(errors?.[0]?.extensions?.nextOffset, label).toBe(sub.values.at(-1)!.nextOffset);
    }
    await Promise.all(clients.map((client) => client.dispose()));
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
    expect(uncaught).toEqual([]);
    // Ended by the subscriptions' end, not by shutdownTimeoutMs.
    expect(tookMs).toBeLessThan(4000);
  });
});

describe('SIGTERM of dist/main.js with a graphql-sse subscription open', () => {
  it('exits 0, and the subscriber gets SHUTTING_DOWN', async () => {
    const { child, exited, out, err } = runCli(['--port', '0']);
    try {
      const url = (await waitForLine(out, /GraphiQL at (http:\S+)/, child))[1]!;
      const id = await runningBuild(url);
      const single = subscriptionClient('sse-single', url);
      const sub = single.subscribe<{ nextOffset: number }>(TRACE, { id });
      await until(() => sub.values.length > 0, 10_000, 'a first chunk');
      child.kill('SIGTERM');
      const [code] = await exited;
      const { errors } = await sub.done;
      await single.dispose();
      expect(err()).not.toMatch(/SHUTTING_DOWN|Error/);
      expect(code).toBe(0);
      expect(errors?.[0]?.extensions?.code).toBe('SHUTTING_DOWN');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});
