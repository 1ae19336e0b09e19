/**
 * Starts the real simulator and the real gateway on free loopback ports, and speaks HTTP to both as a
 * client and GitLab would. Every suite closes what it started in afterAll.
 */
import { type CredentialRecord, type Simulator, type SimulatorOptions, startSimulator } from '@buildgate/simulator';
import { type GatewayConfigInput, parseConfig } from '../../src/config.js';
import { type Gateway, startGateway } from '../../src/server.js';

export interface GraphQLResponse<T = Record<string, any>> {
  data?: T | null;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, any> }>;
}

export interface Stack {
  simulator: Simulator;
  gateway: Gateway;
  /** POSTs an operation to the gateway's /graphql. */
  graphql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResponse<T>>;
  /** Upstream requests the simulator counted since the last reset. */
  stats(): Promise<{ total: number; routes: Record<string, number> }>;
  resetStats(): Promise<void>;
  /** The credentials each upstream request since `recordCredentials()` arrived with (the simulator's `/__sim/credentials`). */
  credentials(): Promise<CredentialRecord[]>;
  /** Forgets recorded credentials and records those of every upstream request from now on. */
  recordCredentials(): Promise<void>;
  /** GET on the simulator's REST API: a path below /api/v4, or an absolute path starting with /api/ or /ms/. */
  rest<T = any>(path: string, token?: string, headers?: Record<string, string>): Promise<{ status: number; body: T; headers: Headers }>;
  close(): Promise<void>;
}

export interface StackOptions {
  simulator?: SimulatorOptions;
  /** Overrides of the gateway's upstream entry. */
  upstream?: Record<string, unknown>;
  /** The gateway's whole upstream list instead, given the simulator's URL. */
  upstreams?: (simulatorUrl: string) => unknown[];
  /** Overrides of the gateway configuration. */
  gateway?: Partial<GatewayConfigInput>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const simulator = await startSimulator({ port: 0, ...options.simulator });
  const config = parseConfig({
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    upstreams: options.upstreams?.(simulator.url) ?? [
      { name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${simulator.url}/api/v4`, ...options.upstream },
    ],
    ...options.gateway,
  });
  const gateway = await startGateway(config);
  return stackOf(simulator, gateway);
}

export function stackOf(simulator: Simulator, gateway: Gateway): Stack {
  return {
    simulator,
    gateway,
    async graphql(query, variables, headers = {}) {
      const response = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as GraphQLResponse<any>;
    },
    async stats() {
      // Counts only; the simulator's per-route `bytes` are on `simulator.stats()`.
      const { total, routes } = (await (await fetch(`${simulator.url}/__sim/stats`)).json()) as { total: number; routes: Record<string, number> };
      return { total, routes };
    },
    async resetStats() {
      const response = await fetch(`${simulator.url}/__sim/stats/reset`, { method: 'POST' });
      await response.arrayBuffer();
    },
    async credentials() {
      return ((await (await fetch(`${simulator.url}/__sim/credentials`)).json()) as { requests: CredentialRecord[] }).requests;
    },
    async recordCredentials() {
      const response = await fetch(`${simulator.url}/__sim/credentials/start`, { method: 'POST' });
      await response.arrayBuffer();
    },
    async rest(path, token, headers = {}) {
      const url = /^\/(api|ms)\//.test(path) ? `${simulator.url}${path}` : `${simulator.url}/api/v4${path}`;
      const response = await fetch(url, { headers: { ...(token ? { 'PRIVATE-TOKEN': token } : {}), ...headers } });
      const text = await response.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // text/plain (a trace) stays text
      }
      return { status: response.status, body: body as any, headers: response.headers };
    },
    async close() {
      await gateway.close();
      await simulator.close();
    },
  };
}

/** The codes of a response's errors, in order. */
export const codes = (response: GraphQLResponse): string[] => (response.errors ?? []).map((e) => e.extensions?.code);
