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
export function embeddedUpstreams(simulatorUrl: string, liveBuild?: number) {
  return [
    {
      name: 'gitlab',
      kind: 'gitlab-v4',
      baseUrl: `${simulatorUrl}/api/v4`,
      token: 'glpat-developer',
      exampleBuild: '7',
      ...(liveBuild !== undefined && { exampleLiveBuild: String(liveBuild) }),
    },
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

/**
 * The build GraphiQL's Tail tab follows: a bench job (bench.ts) started now that writes a few lines a
 * tick for about a day at the default tick (32 MiB at 400 bytes a tick), so the tab streams live
 * whenever it is opened. The simulator's own running builds end within seconds.
 */
export const LIVE_JOB = { project: '1', name: 'demo:live-log', logBytesPerTick: 400, totalBytes: 32 * 1024 * 1024 } as const;

async function startLiveJob(simulatorUrl: string): Promise<number> {
  // Through the control API, as a test or a bench would: the simulator's store stays its own.
  const response = await fetch(`${simulatorUrl}/__sim/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(LIVE_JOB) });
  if (response.status !== 201) throw new Error(`the embedded simulator refused the live job: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { id: number }).id;
}

/** Starts a simulator on a free loopback port, with a long-running job, and returns the upstreams that front it. */
export async function startEmbedded(): Promise<EmbeddedUpstreams> {
  const simulator = await startSimulator({ host: '127.0.0.1', port: 0 });
  let liveBuild: number;
  try {
    liveBuild = await startLiveJob(simulator.url);
  } catch (error) {
    await simulator.close();
    throw error;
  }
  return {
    upstreams: embeddedUpstreams(simulator.url, liveBuild),
    banner: `embedded simulator (GitLab, bk-ci) at ${simulator.url}`,
    simulator,
    close: () => simulator.close(),
  };
}
