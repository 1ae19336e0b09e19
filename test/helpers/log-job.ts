/** Finished simulator jobs whose log is exactly a given text (`POST /__sim/jobs/log`). */
import type { Stack } from './stack.js';

export const ESC = '\u001b';
export const CLR = `${ESC}[0K`;
export const sectionStart = (name: string, header = ''): string => `${CLR}section_start:1700000000:${name}\r${CLR}${header}`;
export const sectionEnd = (name: string): string => `${CLR}section_end:1700000001:${name}\r${CLR}`;

/** A finished job of project 1 with this log; returns its job id and its global id. */
export async function logJob(stack: Stack, log: string, status: 'success' | 'failed' = 'success'): Promise<{ job: string; id: string }> {
  const response = await fetch(`${stack.simulator.url}/__sim/jobs/log`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ project: 1, name: 'log', log, status }),
  });
  if (response.status !== 201) throw new Error(`POST /__sim/jobs/log: ${response.status} ${await response.text()}`);
  const { id } = (await response.json()) as { id: number };
  const found = await stack.graphql(`{ project(upstream: "gitlab", id: "1") { build(id: "${id}") { id status } } }`);
  if (found.errors) throw new Error(JSON.stringify(found.errors));
  return { job: String(id), id: found.data!.project.build.id };
}
