/**
 * @buildgate/simulator: a stand-in for the REST APIs buildgate fronts (GitLab v4 and v3 on one store,
 * bk-ci's apigw). `startSimulator` (simulator.ts) serves it on a port; `startEmbedded` (embedded.ts) is
 * what the gateway's `npm start` loads when no upstream is configured. The rest is what tests and
 * benches name: options, seeded tokens, statuses, fault rules, the stores behind the API.
 */
export { type Simulator, startSimulator } from './simulator.js';
export { type EmbeddedUpstreams, embeddedUpstreams, startEmbedded } from './embedded.js';
export type { SimulatorOptions, ResolvedOptions, V3CommitShape } from './options.js';
export { InvalidSimulatorOptionError } from './options.js';
export { SIMULATOR_TOKENS } from './seed-data.js';
export type { TokenSpec } from './seed-data.js';
export { JOB_STATUSES } from './status.js';
export type { JobStatus } from './status.js';
export type { StatsSnapshot } from './stats.js';
export { FAULT_METHODS, FAULT_MODES, FAULT_STATUSES } from './faults.js';
export type { FaultAction, FaultListing, FaultMethod, FaultMode, FaultRule, FaultStatus, FaultTarget } from './faults.js';
export type { Store } from './store.js';
export { MIN_RUNNING, MAX_RUNNING } from './runner.js';
export { BKCI_APPS, BKCI_TOKENS, BKCI_USERS } from './bkci/index.js';
export type { BkciStore } from './bkci/index.js';
export type { CredentialRecord } from './credential-log.js';
export { CliUsageError, USAGE, parseCli } from './cli.js';
