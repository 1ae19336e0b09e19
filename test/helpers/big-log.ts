/** Bench jobs of the simulator (`POST /__sim/jobs`) with logs of a chosen size. */
import type { Stack } from './stack.js';

/** A finished job of project 1 whose log is `bytes` long; returns its job id. */
export async function bigLog(stack: Stack, bytes: number): Promise<string> {
  const created = await fetch(`${stack.simulator.url}/__sim/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ project: 1, name: 'big-log', logBytesPerTick: bytes, totalBytes: bytes }),
  }).then((r) => r.json() as Promise<{ id: number }>);
  for (let i = 0; i < 20; i++) {
    const job = await stack.rest(`/projects/1/jobs/${created.id}`, 'glpat-developer');
    if (job.body.status === 'success') return String(created.id);
    stack.simulator.tick();
  }
  throw new Error('the big-log job did not finish');
}
