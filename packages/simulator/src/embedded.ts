/**
 * What the gateway's embedded mode needs (`npm start` with no upstream configured): a simulator on a
 * free loopback port and the upstreams that front it. The gateway loads this module with a dynamic
 * `import()` only in that case, so a configured gateway never loads the simulator.
 */
import { type Simulator, startSimulator } from './simulator.js';

/**
 * The simulator's GitLab as v4 and v3 (one instance, as GitLab 8.x–9.x served both) and its bk-ci, each
 * with a service credential that may run mutations, so GraphiQL works out of the box.
 */
export function embeddedUpstreams(simulatorUrl: string) {
  return [
    { name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${simulatorUrl}/api/v4`, token: 'glpat-developer', exampleBuild: '7' },
    { name: 'gitlab-v3', kind: 'gitlab-v3', baseUrl: `${simulatorUrl}/api/v3`, token: 'glpat-developer' },
    {
      name: 'bkci',
      kind: 'bkci-apigw',
      baseUrl: `${simulatorUrl}/ms/openapi/api/apigw/v3`,
      token: 'alice',
      tokenHeader: 'X-DEVOPS-UID',
      exampleProject: 'demo',
    },
  ];
}

export interface EmbeddedUpstreams {
  /** The upstream entries to put in the gateway's config (`GatewayConfig['upstreams']`'s input shape). */
  readonly upstreams: ReturnType<typeof embeddedUpstreams>;
  /** One line for the gateway's start-up output, e.g. `embedded simulator (GitLab, bk-ci) at http://127.0.0.1:34567`. */
  readonly banner: string;
  readonly simulator: Simulator;
  /** Stops the simulator. Idempotent. */
  close(): Promise<void>;
}

/** Starts a simulator on a free loopback port and returns the upstreams that front it. */
export async function startEmbedded(): Promise<EmbeddedUpstreams> {
  const simulator = await startSimulator({ host: '127.0.0.1', port: 0 });
  return {
    upstreams: embeddedUpstreams(simulator.url),
    banner: `embedded simulator (GitLab, bk-ci) at ${simulator.url}`,
    simulator,
    close: () => simulator.close(),
  };
}
