/**
 * The simulator's credential log (`/__sim/credentials`): off by default, so benchmarks pay nothing;
 * once started it records, per counted API request, the upstream, the route and every credential
 * header or query parameter that arrived, and control requests are not recorded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../src/index.js';

let simulator: Simulator;
beforeAll(async () => {
  simulator = await startSimulator({ tickMs: 3_600_000 });
});
afterAll(() => simulator?.close());

const log = async () => (await (await fetch(`${simulator.url}/__sim/credentials`)).json()) as { recording: boolean; requests: any[] };
const control = async (action: 'start' | 'stop') => (await fetch(`${simulator.url}/__sim/credentials/${action}`, { method: 'POST' })).json();

describe('simulator credential log', () => {
  it('records nothing until started', async () => {
    await (await fetch(`${simulator.url}/api/v4/projects/1/jobs`, { headers: { 'PRIVATE-TOKEN': 'glpat-developer' } })).arrayBuffer();
    expect(await log()).toEqual({ recording: false, requests: [] });
  });

  it('records each API request\'s credentials by upstream and route once started, and stops', async () => {
    await control('start');
    await (await fetch(`${simulator.url}/api/v4/projects/1/jobs?private_token=glpat-q`, { headers: { Authorization: 'Bearer glpat-b' } })).arrayBuffer();
    await (await fetch(`${simulator.url}/ms/openapi/api/apigw/v3/projects/demo/pipelines/p-demo/builds/history?access_token=bk-alice-token`, { headers: { 'X-DEVOPS-UID': 'alice' } })).arrayBuffer();
    await (await fetch(`${simulator.url}/api/v4/projects/1`)).arrayBuffer();
    const { recording, requests } = await log();
    expect(recording).toBe(true);
    expect(requests).toEqual([
      { upstream: 'gitlab', route: 'GET /api/v4/projects/:id/jobs', credentials: { authorization: 'Bearer glpat-b', '?private_token': 'glpat-q' } },
      { upstream: 'bkci', route: expect.stringContaining('/builds/history'), credentials: { 'x-devops-uid': 'alice', '?access_token': 'bk-alice-token' } },
      { upstream: 'gitlab', route: 'GET /api/v4/projects/:id', credentials: {} },
    ]);
    await control('stop');
    await (await fetch(`${simulator.url}/api/v4/projects/1`)).arrayBuffer();
    expect(await log()).toEqual({ recording: false, requests: [] });
  });
});
