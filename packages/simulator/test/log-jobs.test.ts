/**
 * `POST /__sim/jobs/log`: a finished job whose log is exactly the text given, served like any job's
 * (the v4 job entity, its trace byte for byte), for gateway tests that need exact log content.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../src/index.js';
import type { Simulator } from '../src/index.js';
import { call, get } from './helpers/sim-http.js';
import { jobSchemaErrors } from './helpers/sim-schemas.js';

const TOKEN = 'glpat-developer';
let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ port: 0, tickMs: 3_600_000 });
});
afterAll(() => sim?.close());

describe('POST /__sim/jobs/log', () => {
  it('makes a failed job whose trace is exactly the log given', async () => {
    const log = '\u001b[31;1mERROR: Job failed: exit code 1\u001b[0;m\ncafé ✓\n';
    const created = await call(sim, 'POST', '/__sim/jobs/log', { body: { project: 1, name: 'exact', log, status: 'failed' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'exact', status: 'failed' });
    const job = await get(sim, `/api/v4/projects/1/jobs/${created.body.id}`, TOKEN);
    expect(job.body).toMatchObject({ id: created.body.id, name: 'exact', status: 'failed', failure_reason: 'script_failure' });
    expect(jobSchemaErrors(job.body)).toEqual([]);
    const trace = await get(sim, `/api/v4/projects/1/jobs/${created.body.id}/trace`, TOKEN);
    expect(trace.text).toBe(log);
  });

  it('defaults to a successful job, and refuses a missing log or an unknown status', async () => {
    const ok = await call(sim, 'POST', '/__sim/jobs/log', { body: { log: 'done\n' } });
    expect(ok.status).toBe(201);
    expect((await get(sim, `/api/v4/projects/1/jobs/${ok.body.id}`, TOKEN)).body.status).toBe('success');
    expect((await call(sim, 'POST', '/__sim/jobs/log', { body: { project: 1 } })).status).toBe(400);
    expect((await call(sim, 'POST', '/__sim/jobs/log', { body: { log: 'x', status: 'running' } })).status).toBe(400);
    expect((await call(sim, 'POST', '/__sim/jobs/log', { body: { log: 'x', project: 999999 } })).status).toBe(404);
  });
});
