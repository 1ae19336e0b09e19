/**
 * GitLab v4's response entities (GL `lib/api/entities/ci/job.rb`, `job_basic.rb`, `bridge.rb`,
 * `pipeline_basic.rb`, `user.rb`, `commit.rb`, …) built from the store's records, in GitLab's field
 * order. A job's JSON is cached until the job or its pipeline changes (their `rev`), except while its
 * durations still depend on the clock, because benchmarks hammer single jobs and list pages.
 */
import type { Artifact, Commit, Job, Pipeline, Project, Runner, User } from '../model.js';
import { compositeStatus } from '../status.js';
import type { JobStatus } from '../status.js';
import { JobBytesCache, jsonArrayBytes } from './job-bytes.js';

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));
const seconds = (ms: number): number => ms / 1000;

export class GitlabV4Entities {
  readonly #origin: string;
  /** Encoded once: the UTF-8 bytes are what the socket needs, and what a list page concatenates. */
  readonly #jobs = new JobBytesCache();
  /** Users and commits never change once created, so their entity objects are built once. */
  readonly #users = new Map<number, object>();
  readonly #commits = new Map<string, object>();

  constructor(origin: string) {
    this.#origin = origin;
  }

  /** A job's JSON bytes (Job entity for builds, Bridge entity for bridges). */
  jobBody(job: Job, now: number): Buffer {
    const volatile = (job.startedAt ?? job.queuedAt) !== null && job.finishedAt === null;
    const hit = volatile ? undefined : this.#jobs.get(job);
    if (hit) return hit;
    const body = Buffer.from(JSON.stringify(job.kind === 'bridge' ? this.bridge(job, now) : this.job(job, now)));
    if (!volatile) this.#jobs.set(job, body);
    return body;
  }

  jobsBody(jobs: readonly Job[], now: number): Buffer {
    return jsonArrayBytes(jobs, (job) => this.jobBody(job, now));
  }

  #jobBasic(job: Job, now: number): Record<string, unknown> {
    const started = job.startedAt;
    const entity: Record<string, unknown> = {
      id: job.id,
      status: job.status,
      stage: job.stage,
      name: job.name,
      ref: job.pipeline.ref,
      tag: job.pipeline.tag,
      coverage: job.coverage,
      allow_failure: job.allowFailure,
      created_at: iso(job.createdAt),
      started_at: isoOrNull(started),
      finished_at: isoOrNull(job.finishedAt),
      erased_at: isoOrNull(job.erasedAt),
      duration: started === null ? null : seconds((job.finishedAt ?? now) - started),
      queued_duration: job.queuedAt === null ? null : seconds((started ?? job.finishedAt ?? now) - job.queuedAt),
      user: this.user(job.user),
      commit: this.commitBasic(job.pipeline.commit),
      pipeline: this.pipelineBasic(job.pipeline),
    };
    if (job.status === 'failed') entity.failure_reason = job.failureReason ?? 'unknown_failure';
    entity.web_url = `${this.#origin}/${job.project.fullPath}/-/jobs/${job.id}`;
    entity.project = { ci_job_token_scope_enabled: false };
    return entity;
  }

  job(job: Job, now: number): Record<string, unknown> {
    const entity = this.#jobBasic(job, now);
    const archive = job.artifacts.find((a) => a.fileType === 'archive');
    if (archive) entity.artifacts_file = { filename: archive.filename, size: archive.size };
    entity.artifacts = job.artifacts.map(artifact);
    entity.runner = job.runner ? runner(job.runner) : null;
    entity.runner_manager = job.runner ? runnerManager(job.runner, job.startedAt ?? job.createdAt) : null;
    entity.artifacts_expire_at = isoOrNull(job.artifactsExpireAt);
    entity.archived = false;
    entity.tag_list = [...job.tagList].sort();
    return entity;
  }

  bridge(job: Job, now: number): Record<string, unknown> {
    const entity = this.#jobBasic(job, now);
    entity.downstream_pipeline = job.downstream ? this.pipelineBasic(job.downstream) : null;
    return entity;
  }

  user(user: User): object {
    let entity = this.#users.get(user.id);
    if (!entity) {
      entity = {
        id: user.id,
        name: user.name,
        username: user.username,
        state: user.state,
        avatar_url: user.avatarUrl,
        web_url: `${this.#origin}/${user.username}`,
        created_at: iso(user.createdAt),
        bio: user.bio,
        location: user.location,
        public_email: '',
        skype: '',
        linkedin: '',
        twitter: '',
        website_url: '',
        organization: user.organization,
        job_title: user.jobTitle,
        pronouns: null,
        bot: false,
        work_information: null,
        followers: 0,
        following: 0,
      };
      this.#users.set(user.id, entity);
    }
    return entity;
  }

  commitBasic(commit: Commit): object {
    let entity = this.#commits.get(commit.sha);
    if (!entity) {
      entity = {
        id: commit.sha,
        short_id: commit.sha.slice(0, 8),
        created_at: iso(commit.committedAt),
        parent_ids: commit.parentIds,
        title: commit.title,
        message: commit.message,
        author_name: commit.author.name,
        author_email: commit.author.email,
        authored_date: iso(commit.authoredAt),
        committer_name: commit.author.name,
        committer_email: commit.author.email,
        committed_date: iso(commit.committedAt),
        trailers: {},
        extended_trailers: {},
        web_url: `${this.#origin}/${commit.project.fullPath}/-/commit/${commit.sha}`,
      };
      this.#commits.set(commit.sha, entity);
    }
    return entity;
  }

  /** GitLab's single-commit reply: the basic commit plus stats, CI status and the last pipeline. */
  commitDetail(commit: Commit): object {
    const last = commit.pipelines[commit.pipelines.length - 1];
    return {
      ...this.commitBasic(commit),
      stats: { additions: commit.additions, deletions: commit.deletions, total: commit.additions + commit.deletions },
      status: last ? commitStatus(commit) : null,
      project_id: commit.project.id,
      last_pipeline: last ? this.pipelineBasic(last) : null,
    };
  }

  pipelineBasic(pipeline: Pipeline): object {
    return {
      id: pipeline.id,
      iid: pipeline.iid,
      project_id: pipeline.project.id,
      sha: pipeline.commit.sha,
      ref: pipeline.ref,
      status: pipeline.status,
      source: pipeline.source,
      created_at: iso(pipeline.createdAt),
      updated_at: iso(pipeline.updatedAt),
      web_url: `${this.#origin}/${pipeline.project.fullPath}/-/pipelines/${pipeline.id}`,
    };
  }

  pipelineDetail(pipeline: Pipeline, now: number): object {
    const started = pipeline.startedAt;
    const coverages = pipeline.jobs.filter((j) => !j.retried && j.coverage !== null).map((j) => j.coverage as number);
    return {
      ...this.pipelineBasic(pipeline),
      before_sha: pipeline.beforeSha,
      tag: pipeline.tag,
      yaml_errors: null,
      user: this.user(pipeline.user),
      started_at: isoOrNull(started),
      finished_at: isoOrNull(pipeline.finishedAt),
      committed_at: null,
      duration: started === null ? null : Math.round(((pipeline.finishedAt ?? now) - started) / 1000),
      queued_duration: started === null ? null : seconds(started - pipeline.createdAt),
      coverage: coverages.length === 0 ? null : (coverages.reduce((a, b) => a + b, 0) / coverages.length).toFixed(2),
      detailed_status: detailedStatus(pipeline),
      archived: false,
    };
  }

  project(project: Project): object {
    const base = `${this.#origin}/${project.fullPath}`;
    const last = project.pipelines[project.pipelines.length - 1];
    const host = new URL(this.#origin).hostname;
    return {
      id: project.id,
      description: project.description,
      name: project.name,
      name_with_namespace: `${project.namespace.name} / ${project.name}`,
      path: project.path,
      path_with_namespace: project.fullPath,
      created_at: iso(project.createdAt),
      default_branch: project.defaultBranch,
      tag_list: [],
      topics: [],
      ssh_url_to_repo: `git@${host}:${project.fullPath}.git`,
      http_url_to_repo: `${base}.git`,
      web_url: base,
      readme_url: `${base}/-/blob/${project.defaultBranch}/README.md`,
      forks_count: 0,
      avatar_url: null,
      star_count: project.id === 1 ? 7 : 0,
      last_activity_at: iso(last ? last.updatedAt : project.createdAt),
      namespace: {
        id: project.namespace.id,
        name: project.namespace.name,
        path: project.namespace.path,
        kind: 'group',
        full_path: project.namespace.path,
        parent_id: null,
        avatar_url: null,
        web_url: `${this.#origin}/groups/${project.namespace.path}`,
      },
      visibility: project.visibility,
      archived: false,
      empty_repo: false,
      jobs_enabled: true,
      builds_access_level: 'enabled',
      public_jobs: true,
      ci_config_path: null,
      open_issues_count: 0,
    };
  }
}

function artifact(a: Artifact): object {
  return { file_type: a.fileType, size: a.size, filename: a.filename, file_format: a.fileFormat };
}

function runner(r: Runner): object {
  return { id: r.id, description: r.description, ip_address: r.ipAddress, active: true, is_shared: r.isShared, name: r.name, online: true, status: 'online' };
}

function runnerManager(r: Runner, contactedAt: number): object {
  const m = r.manager;
  return {
    id: m.id,
    system_id: m.systemId,
    version: m.version,
    revision: m.revision,
    platform: m.platform,
    architecture: m.architecture,
    created_at: iso(m.createdAt),
    contacted_at: iso(contactedAt),
    ip_address: m.ipAddress,
    status: 'online',
  };
}

/** The commit's CI status: the composite of the latest pipelines run for it. */
function commitStatus(commit: Commit): JobStatus {
  return compositeStatus(commit.pipelines.map((p) => ({ status: p.status, allowFailure: false })));
}

const STATUS_TEXT: Partial<Record<JobStatus, [text: string, label: string]>> = {
  success: ['Passed', 'passed'],
  manual: ['Blocked', 'manual action'],
  waiting_for_resource: ['Waiting', 'waiting for resource'],
  waiting_for_callback: ['Waiting', 'waiting for callback'],
};

function detailedStatus(pipeline: Pipeline): object {
  const status = pipeline.status;
  const [text, label] = STATUS_TEXT[status] ?? [status.charAt(0).toUpperCase() + status.slice(1), status];
  return {
    icon: `status_${status}`,
    text,
    label,
    group: status.replace(/_/g, '-'),
    tooltip: label,
    has_details: true,
    details_path: `/${pipeline.project.fullPath}/-/pipelines/${pipeline.id}`,
    illustration: null,
    favicon: `/assets/ci_favicons/favicon_status_${status}.png`,
  };
}
