/**
 * buildgate's upstream simulator: a stand-in for GitLab's REST API v4 (jobs, pipelines, commits,
 * users) served by a plain `node:http` server, with seeded data, a clock that runs builds, named
 * tokens, and request stats. Routes: `/api/v4/…` (see routes/gitlab-v4.ts), `/api/v3/…` (the v3
 * Builds API over the same store, routes/gitlab-v3.ts), artifact downloads (routes/artifacts.ts),
 * bk-ci's open API gateway at `/ms/openapi/api/{apigw,apigw-user,apigw-app}/v3/…` (its own store,
 * sharing only the clock and the stats; bkci/index.ts) and `/__sim/…` (control: routes/control.ts,
 * routes/control-data.ts for tokens and the bench jobs of bench.ts, routes/control-faults.ts for the
 * fault rules). Every request goes through one pipeline (pipeline.ts): route and count, draw a fault
 * (faults.ts), answer or inject the fault (fault-inject.ts).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BenchJobs } from './bench.js';
import { createBkci } from './bkci/index.js';
import type { BkciStore } from './bkci/index.js';
import { GitlabV3Entities } from './entities/gitlab-v3.js';
import { GitlabV4Entities } from './entities/gitlab-v4.js';
import type { BuildContext } from './factory.js';
import { FaultInjector } from './fault-inject.js';
import { FaultTable } from './faults.js';
import { generate } from './generator.js';
import { Lifecycle } from './lifecycle.js';
import { TraceRenderer } from './logs.js';
import { InvalidSimulatorOptionError, resolveOptions } from './options.js';
import type { ResolvedOptions, SimulatorOptions } from './options.js';
import { CredentialLog } from './credential-log.js';
import { createPipeline } from './pipeline.js';
import { Prng, hash32 } from './prng.js';
import { gitlabV4Artifacts } from './routes/artifacts.js';
import { controlRoutes } from './routes/control.js';
import { controlDataRoutes } from './routes/control-data.js';
import { controlCredentialRoutes } from './routes/control-credentials.js';
import { controlFaultRoutes } from './routes/control-faults.js';
import { gitlabV3, gitlabV3FromV4 } from './routes/gitlab-v3.js';
import { gitlabV3Pipelines } from './routes/gitlab-v3-pipelines.js';
import { gitlabV4 } from './routes/gitlab-v4.js';
import { Clock } from './runner.js';
import { controlFrontEnd, gitlabFrontEnd } from './server.js';
import { LiveSettings } from './settings.js';
import { Stats } from './stats.js';
import type { StatsSnapshot } from './stats.js';
import { Store } from './store.js';

export interface Simulator {
  /** e.g. `http://127.0.0.1:34567` (no trailing slash); GitLab v4 lives at `${url}/api/v4`. */
  readonly url: string;
  readonly port: number;
  /** The options after defaults. */
  readonly options: ResolvedOptions;
  /** The live data, for tests that need to look behind the API. */
  readonly store: Store;
  /** bk-ci's data (a separate CI system: nothing in it is shared with `store`). */
  readonly bkci: BkciStore;
  /** Advances the clock by `count` ticks at once (as `POST /__sim/tick` does). */
  tick(count?: number): void;
  stats(): StatsSnapshot;
  /** Counted requests in flight now, and the most at once since the last `resetStats`. */
  concurrency(): { inFlight: number; maxInFlight: number };
  resetStats(): void;
  /** Stops the clock and the server, dropping keep-alive connections and ending held (stalled, hanging) and delayed replies. Idempotent. */
  close(): Promise<void>;
}

/** Loopback when bound to every interface, so the URL is one a local client can use. */
function displayHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const resolved = resolveOptions(options);
  const store = new Store();
  const lifecycle = new Lifecycle(store, resolved.seed);
  generate(store, lifecycle, resolved, Date.now());

  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(resolved.port, resolved.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${displayHost(resolved.host)}:${port}`;

  const build: BuildContext = { store, lifecycle, seed: resolved.seed, rng: new Prng(hash32(resolved.seed, 0xc10c)) };
  const busy = store.projects.get(1);
  if (!busy) throw new Error('the generator did not create project 1');
  const clock = new Clock(build, resolved, busy);
  const stats = new Stats();
  const settings = new LiveSettings(resolved);
  settings.onChange(({ tickMs }) => clock.retime(tickMs));
  // Jobs with big or fast logs on demand (POST /__sim/jobs); their logs are stored, not synthesised.
  const bench = new BenchJobs({ store, lifecycle, seed: resolved.seed });
  clock.onTick((now) => bench.tick(now));
  const traces = new TraceRenderer(resolved.seed, (job) => bench.log(job));
  const afterMutation = (now: number): void => clock.topUp(now);
  const api = gitlabV4({
    store,
    lifecycle,
    entities: new GitlabV4Entities(url),
    traces,
    settings,
    origin: url,
    afterMutation,
  });
  // One store behind v3 and v4, as GitLab 8.x–9.x served both: same builds, same ids.
  const v3Entities = new GitlabV3Entities(url);
  const v3 = gitlabV3({ store, lifecycle, entities: v3Entities, traces, settings, origin: url, afterMutation });
  const bkci = createBkci({ seed: resolved.seed, stats, now: Date.now() });
  clock.onTick((now) => bkci.tick(now));
  const gitlab = gitlabFrontEnd({ store, stats, api: [api, v3, gitlabV3FromV4(api), gitlabV3Pipelines({ store, entities: v3Entities, origin: url }), gitlabV4Artifacts(store)] });
  const faults = new FaultTable(resolved.seed, [...gitlab.routeKeys, ...bkci.routeKeys]);
  const unknown = resolved.faults.findIndex((rule) => !faults.knows(rule));
  if (unknown !== -1) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw new InvalidSimulatorOptionError(`faults[${unknown}].route`, resolved.faults[unknown]?.route, 'a route as /__sim/stats names it, or "*"');
  }
  faults.add(resolved.faults);
  const injector = new FaultInjector();
  const credentials = new CredentialLog();
  const control = controlFrontEnd([
    controlRoutes({ stats, clock, settings }),
    controlDataRoutes({ store, bench }),
    controlFaultRoutes(faults),
    controlCredentialRoutes(credentials),
  ]);
  server.on('request', createPipeline({ stats, faults, injector, frontEnds: [control, bkci, gitlab], credentials }));
  clock.start();

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    options: resolved,
    store,
    bkci: bkci.store,
    tick(count = 1) {
      for (let i = 0; i < count; i++) clock.tick();
    },
    stats: () => stats.snapshot(),
    concurrency: () => stats.concurrency(),
    resetStats: () => stats.reset(),
    close() {
      closing ??= new Promise<void>((resolve) => {
        clock.stop();
        injector.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
