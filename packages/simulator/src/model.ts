/**
 * The simulator's own records. Routes never expose these directly: each upstream API presents them
 * through its own entity module (`entities/gitlab-v4.ts`), so v3 and bk-ci can share one store later.
 * Times are epoch milliseconds (null = not happened).
 */
import type { JobStatus } from './status.js';

export interface User {
  readonly id: number;
  readonly username: string;
  readonly name: string;
  readonly email: string;
  readonly state: 'active' | 'blocked';
  readonly avatarUrl: string | null;
  readonly createdAt: number;
  readonly bio: string | null;
  readonly location: string | null;
  readonly organization: string;
  readonly jobTitle: string;
  readonly admin: boolean;
}

export type Visibility = 'public' | 'internal' | 'private';

export interface Namespace {
  readonly id: number;
  readonly name: string;
  readonly path: string;
}

export interface Project {
  readonly id: number;
  readonly name: string;
  readonly path: string;
  /** `namespace/path`, the form clients URL-encode as `namespace%2Fpath`. */
  readonly fullPath: string;
  readonly description: string;
  readonly namespace: Namespace;
  readonly visibility: Visibility;
  readonly defaultBranch: string;
  readonly createdAt: number;
  /** Builds only (no bridges), ascending id: new ids are always the largest, so appending keeps order. */
  readonly builds: Job[];
  /** Ascending id, for the same reason. */
  readonly pipelines: Pipeline[];
  readonly commits: Map<string, Commit>;
  /** Latest commit per branch or tag name: `repository/commits/:ref` resolves through it. */
  readonly refHeads: Map<string, Commit>;
}

export interface Commit {
  readonly sha: string;
  readonly title: string;
  readonly message: string;
  readonly author: User;
  readonly authoredAt: number;
  readonly committedAt: number;
  readonly parentIds: readonly string[];
  readonly additions: number;
  readonly deletions: number;
  readonly project: Project;
  /** Pipelines run for this sha, ascending id (a tag and its branch may share one commit). */
  readonly pipelines: Pipeline[];
}

export interface Pipeline {
  readonly id: number;
  readonly iid: number;
  readonly project: Project;
  readonly commit: Commit;
  readonly ref: string;
  readonly tag: boolean;
  readonly source: 'push' | 'web' | 'schedule' | 'pipeline' | 'api';
  readonly user: User;
  readonly beforeSha: string;
  readonly createdAt: number;
  status: JobStatus;
  updatedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Builds and bridges, ascending id. */
  readonly jobs: Job[];
  /** Bumped whenever anything a job embeds from its pipeline changes; entity caches compare it. */
  rev: number;
}

export interface Artifact {
  readonly fileType: string;
  readonly size: number;
  readonly filename: string;
  readonly fileFormat: 'zip' | 'gzip' | 'raw';
}

export interface RunnerManager {
  readonly id: number;
  readonly systemId: string;
  readonly version: string;
  readonly revision: string;
  readonly platform: string;
  readonly architecture: string;
  readonly createdAt: number;
  readonly ipAddress: string;
}

export interface Runner {
  readonly id: number;
  readonly description: string;
  readonly name: string;
  readonly ipAddress: string;
  readonly isShared: boolean;
  readonly tags: readonly string[];
  readonly manager: RunnerManager;
}

/** How much of a job's log exists; the text itself is synthesised on demand (see logs.ts). */
export type TraceState =
  | { readonly kind: 'none' }
  /** Header written, `lines` script lines so far, no footer yet (running, or stopped mid-way). */
  | { readonly kind: 'open'; readonly lines: number }
  /** Complete log ending in "Job succeeded" / "ERROR: Job failed". */
  | { readonly kind: 'closed'; readonly lines: number };

export interface Job {
  readonly id: number;
  readonly kind: 'build' | 'bridge';
  readonly name: string;
  readonly stage: string;
  /** Position of `stage` in the pipeline's stage list; later stages wait for earlier ones. */
  readonly stageIdx: number;
  readonly project: Project;
  readonly pipeline: Pipeline;
  readonly when: 'on_success' | 'manual' | 'delayed';
  readonly allowFailure: boolean;
  readonly tagList: readonly string[];
  readonly createdAt: number;
  user: User;
  status: JobStatus;
  queuedAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  erasedAt: number | null;
  coverage: number | null;
  failureReason: string | null;
  runner: Runner | null;
  artifacts: readonly Artifact[];
  artifactsExpireAt: number | null;
  /** A newer job with the same name replaced it (retry); pipeline job lists hide it by default. */
  retried: boolean;
  trace: TraceState;
  /** Bridges only: the pipeline they triggered. */
  downstream: Pipeline | null;
  /** Clock ticks spent in the current state (pending or running); meaningful only while active. */
  ticks: number;
  /** Bumped on every change; entity and log caches compare it. */
  rev: number;
}

/** What a named token may do. `access` is per project id; admins may do everything everywhere. */
export type AccessLevel = 'reporter' | 'developer' | 'maintainer';

export interface TokenGrant {
  readonly token: string;
  readonly user: User;
  readonly admin: boolean;
  readonly access: ReadonlyMap<number, AccessLevel>;
}
