/** Small HTTP helpers for the simulator suites: real requests over loopback with fetch. */
import type { Simulator } from '../../src/index.js';

export type Json = any;

export interface SimResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: Json;
}

export interface RequestOptions {
  readonly token?: string;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
}

export async function call(sim: Simulator, method: string, path: string, options: RequestOptions = {}): Promise<SimResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers['PRIVATE-TOKEN'] = options.token;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path.startsWith('http') ? path : `${sim.url}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  let body: Json = text;
  if (text !== '' && (response.headers.get('content-type') ?? '').includes('json')) body = JSON.parse(text);
  return { status: response.status, headers: response.headers, text, body };
}

export const get = (sim: Simulator, path: string, token?: string): Promise<SimResponse> => call(sim, 'GET', path, { token });
export const post = (sim: Simulator, path: string, token?: string): Promise<SimResponse> => call(sim, 'POST', path, { token });

/** The URL of `rel` in a Link header, or undefined. */
export function linkRel(link: string | null, rel: string): string | undefined {
  for (const part of (link ?? '').split(', ')) {
    const m = /^<([^>]+)>; rel="([^"]+)"$/.exec(part);
    if (m && m[2] === rel) return m[1];
  }
  return undefined;
}

/** Every job of a project list, following Link rel="next" (works for offset and keyset). */
export async function walk(sim: Simulator, firstPath: string, token?: string): Promise<{ jobs: Json[]; requests: number }> {
  const jobs: Json[] = [];
  let url: string | undefined = `${sim.url}${firstPath}`;
  let requests = 0;
  while (url) {
    const response = await get(sim, url, token);
    if (response.status !== 200) throw new Error(`${url} answered ${response.status}: ${response.text}`);
    jobs.push(...(response.body as Json[]));
    requests++;
    url = linkRel(response.headers.get('link'), 'next');
  }
  return { jobs, requests };
}
