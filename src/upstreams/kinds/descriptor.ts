/**
 * What one upstream kind is, in one place: how its credentials travel, what it can do and how its
 * adapter is made. The context, the registry, the config check, the logger and the resolvers read these
 * declarations instead of asking which kind an upstream is.
 */
import type { Credential, TraceUnit, UpstreamKind } from '../../model.js';
import type { UpstreamHttp, UpstreamHttpOptions } from '../http.js';
import type { Upstream } from '../types.js';

/** Every way a configured service credential can be sent, over all kinds (`tokenHeader` in config). */
export const TOKEN_HEADERS = ['PRIVATE-TOKEN', 'Authorization', 'X-DEVOPS-UID', 'X-Bkapi-Authorization', 'access_token'] as const;
export type TokenHeader = (typeof TOKEN_HEADERS)[number];

/** The build mutations; a kind declares which of them it supports. */
export type BuildOperation = 'retry' | 'cancel' | 'erase' | 'play';

/** What an upstream kind can do: the resolvers refuse the rest before any upstream request. */
export interface UpstreamCapabilities extends Record<BuildOperation, boolean> {
  /** Whether a retry takes `RetryOptions` (a task, the failed containers, skipping). */
  retryOptions: boolean;
  /** Whether builds have stages, jobs and steps (`Build.stages`). */
  stages: boolean;
  /** Whether commits can be read (`Project.commit`, `Commit.builds`). */
  commits: boolean;
  /** `retryPipeline` and `cancelPipeline`. */
  pipelineRetry: boolean;
  pipelineCancel: boolean;
  /** `Runner.builds`: the builds a runner ran. */
  runnerBuilds: boolean;
  /** What trace offsets count. */
  traceUnit: TraceUnit;
  /** Which filters `Project.pipelines` / `Commit.pipelines` (`sha`) can apply, upstream or in the gateway. */
  pipelineFilters: readonly PipelineFilter[];
}

/** The filters of a pipelines list beside `scope`, which every kind applies. */
export type PipelineFilter = 'ref' | 'source' | 'sha';

/** How a kind names projects, for one key per project however a client spells it (project-identity.ts). */
export interface ProjectIdRule {
  /** Numeric ids are ids: leading zeros say nothing (`007` is `7`). */
  numericIds: boolean;
  /** Anything else is a path the upstream resolves (case-insensitively) to a numeric id. */
  resolvesPaths: boolean;
}

/** The kind-specific settings of an upstream's configuration. */
export interface AdapterSettings {
  keyset: boolean;
  legacy: boolean;
}

export interface UpstreamKindDescriptor {
  readonly kind: UpstreamKind;
  /** The value of the GraphQL enum `UpstreamKind`. */
  readonly graphqlEnum: 'GITLAB_V4' | 'GITLAB_V3' | 'BKCI_APIGW';
  /**
   * The caller's own credential for this kind, taken only from the headers this kind uses, so a GitLab
   * token never travels to bk-ci or the other way round. A malformed or oversized value is
   * UNAUTHENTICATED (credentials.ts), thrown before any upstream request.
   */
  clientCredential(headers: Headers): Credential | undefined;
  /** The allowed `tokenHeader` values; the first is the default. */
  readonly tokenHeaders: readonly [TokenHeader, ...TokenHeader[]];
  /** What `--help` says about them. */
  readonly tokenHeaderHelp: string;
  /** How a configured service credential is sent under `tokenHeader`. */
  serviceCredential(tokenHeader: TokenHeader, token: string): Credential;
  /** Headers (lower case) and query parameters that carry this kind's credentials: never logged. */
  readonly secretHeaders: readonly string[];
  readonly secretParams: readonly string[];
  /** Which configuration settings besides the common ones apply to this kind. */
  readonly settings: readonly (keyof AdapterSettings)[];
  readonly capabilities: Readonly<UpstreamCapabilities>;
  readonly projectIds: Readonly<ProjectIdRule>;
  /** HTTP options of this kind's client (how its error bodies read). */
  readonly http?: Pick<UpstreamHttpOptions, 'describeError'>;
  /** The adapter, over the HTTP client the registry made (which owns probe, stats and close). */
  createAdapter(http: UpstreamHttp, settings: AdapterSettings): Upstream;
}
