/**
 * Small HTTP helpers for the bench process itself (setup, stats, checks): not used to generate load.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';

export const DEVELOPER_TOKEN = 'glpat-developer';

export async function getJson(url, headers = {}) {
  const response = await fetch(url, { headers });
  const text = await response.text();
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${text.slice(0, 500)}`);
  return JSON.parse(text);
}

export async function postJson(url, body = {}, headers = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : undefined;
}

/** One GraphQL operation; throws on a transport error or on any GraphQL error. */
export async function gql(url, query, variables = {}, headers = {}) {
  const result = await postJson(url, { query, variables }, headers);
  if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors).slice(0, 1000)}`);
  return result.data;
}

export const simStats = (simUrl) => getJson(`${simUrl}/__sim/stats`);
export const resetSimStats = (simUrl) => postJson(`${simUrl}/__sim/stats/reset`);

/** Sum of a stats map over the route keys `match` accepts. */
export function sumRoutes(map = {}, match) {
  let total = 0;
  for (const [key, value] of Object.entries(map)) if (match(key)) total += value;
  return total;
}

/** Length and sha256 of a whole job log, streamed (a 200 MB log is never held in memory). */
export function hashLog(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        reject(new Error(`GET ${url}: ${response.statusCode}`));
        return;
      }
      const hash = createHash('sha256');
      let bytes = 0;
      response.on('data', (chunk) => {
        bytes += chunk.length;
        hash.update(chunk);
      });
      response.on('end', () => resolve({ bytes, sha256: hash.digest('hex') }));
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

/** The length of a job log now, from a HEAD (the simulator's weak ETag is `W/"<job>-<length>"`). */
export function headLogLength(agent, url, headers) {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'HEAD', agent, headers }, (response) => {
      response.resume();
      const length = Number(response.headers['content-length'] ?? /-(\d+)"$/.exec(response.headers.etag ?? '')?.[1]);
      if (response.statusCode !== 200 || !Number.isFinite(length)) reject(new Error(`HEAD ${url}: ${response.statusCode}`));
      else resolve(length);
    });
    request.on('error', reject);
    request.end();
  });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** `performance.timeOrigin + performance.now()`: a sub-millisecond clock that every process on the machine shares. */
export const now = () => performance.timeOrigin + performance.now();
