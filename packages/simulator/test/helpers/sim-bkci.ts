/** Helpers for the bk-ci simulator suites: apigw calls as a named user, and the `Result` unwrapped. */
import { expect } from 'vitest';
import type { Simulator } from '../../src/index.js';
import { call } from './sim-http.js';
import type { Json, SimResponse } from './sim-http.js';

export const APIGW = '/ms/openapi/api/apigw/v3';
export const DEMO = `${APIGW}/projects/demo`;

export interface BkCallOptions {
  /** X-DEVOPS-UID; `null` sends no identity at all. @default 'alice' */
  readonly user?: string | null;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
}

export function bk(sim: Simulator, method: 'GET' | 'POST', path: string, options: BkCallOptions = {}): Promise<SimResponse> {
  const user = options.user === undefined ? 'alice' : options.user;
  const headers: Record<string, string> = { ...options.headers };
  if (user !== null) headers['X-DEVOPS-UID'] = user;
  return call(sim, method, path, { headers, body: options.body ?? (method === 'POST' ? {} : undefined) });
}

/** `data` of a successful `Result` (HTTP 200, status 0, message null). */
export async function data(sim: Simulator, path: string, options: BkCallOptions = {}): Promise<Json> {
  const response = await bk(sim, 'GET', path, options);
  expect(response.status, `${path}: ${response.text.slice(0, 300)}`).toBe(200);
  expect(response.body.status).toBe(0);
  expect(response.body.message).toBeNull();
  return response.body.data;
}

export const buildPath = (pipelineId: string, buildId: string, tail = ''): string => `${DEMO}/pipelines/${pipelineId}/builds/${buildId}${tail}`;

/** Every record of a pipeline's history, newest build number first. */
export async function history(sim: Simulator, pipelineId: string): Promise<Json[]> {
  const out: Json[] = [];
  for (let page = 1; ; page++) {
    const d = await data(sim, `${DEMO}/pipelines/${pipelineId}/builds/history?page=${page}&pageSize=100`);
    out.push(...d.records);
    if (page >= d.totalPages) return out;
  }
}

/** Every step of a ModelDetail, with its job and stage. */
export function steps(detail: Json): { stage: Json; container: Json; element: Json }[] {
  return detail.model.stages.flatMap((stage: Json) =>
    stage.containers.flatMap((container: Json) => container.elements.map((element: Json) => ({ stage, container, element }))),
  );
}
