/**
 * GitLab v3's Build entity, built from the same store records as v4's Job, so a build and the job with
 * the same id agree wherever both APIs show a field. Fields and order follow 9.x
 * `API::V3::Entities::Build` (GL `lib/api/v3/entities.rb`) plus 8.x's `download_url` (documented in
 * https://gitlab.com/gitlab-org/gitlab-foss/-/blob/8-16-stable/doc/api/builds.md):
 *
 *   id, status, stage, name, ref, tag, coverage, created_at, started_at, finished_at, user,
 *   download_url, artifacts_file (only with an archive), commit, runner, pipeline {id, sha, ref, status}
 *
 * v3 never had v4's duration, queued_duration, allow_failure, web_url, erased_at, failure_reason,
 * artifacts[], artifacts_expire_at, tag_list, project, archived or runner_manager.
 *
 * `commit` has two shapes, as GitLab's v3 documentation shows over time: the git commit (`repo-commit`,
 * 9.x `RepoCommit`, `id` = sha), or early 8.x's CI commit (`ci-commit`) `{id: <pipeline id>, sha, ref: null,
 * committed_at}`. Only `commit` changes with the shape; early 8.x's documented example also lacks tag,
 * coverage, user, download_url and pipeline, which are kept (a superset) so one client code path reads both.
 *
 * Statuses are the store's, unmapped: v3 never knew `preparing`, `scheduled`, `canceling`, … but a
 * shared store holds them, and a client maps statuses anyway.
 *
 * A v3 build shows no clock-dependent field (no duration), so its bytes are cached until the job or its
 * pipeline changes (`rev`) or the shape is switched.
 */
import type { Commit, Job, Pipeline, Runner, User } from '../model.js';
import type { V3CommitShape } from '../options.js';
import { JobBytesCache, jsonArrayBytes } from './job-bytes.js';

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

export class GitlabV3Entities {
  readonly #origin: string;
  readonly #builds = new JobBytesCache();
  /** Users and commits never change once created, so their entity objects are built once. */
  readonly #users = new Map<number, object>();
  readonly #commits = new Map<string, object>();

  constructor(origin: string) {
    this.#origin = origin;
  }

  buildBody(job: Job, shape: V3CommitShape): Buffer {
    const hit = this.#builds.get(job, shape);
    if (hit) return hit;
    const body = Buffer.from(JSON.stringify(this.build(job, shape)));
    this.#builds.set(job, body, shape);
    return body;
  }

  buildsBody(jobs: readonly Job[], shape: V3CommitShape): Buffer {
    return jsonArrayBytes(jobs, (job) => this.buildBody(job, shape));
  }

  build(job: Job, shape: V3CommitShape): Record<string, unknown> {
    const archive = job.artifacts.find((a) => a.fileType === 'archive');
    const entity: Record<string, unknown> = {
      id: job.id,
      status: job.status,
      stage: job.stage,
      name: job.name,
      ref: job.pipeline.ref,
      tag: job.pipeline.tag,
      coverage: job.coverage,
      created_at: iso(job.createdAt),
      started_at: isoOrNull(job.startedAt),
      finished_at: isoOrNull(job.finishedAt),
      user: this.user(job.user),
      // 8.x: the web UI's download link (GitLab sent a path; the simulator an absolute URL), null without
      // an archive. Every caller who can read the build may download, so it is never hidden.
      download_url: archive ? `${this.#origin}/${job.project.fullPath}/builds/${job.id}/artifacts/download` : null,
    };
    if (archive) entity.artifacts_file = { filename: archive.filename, size: archive.size };
    entity.commit = shape === 'ci-commit' ? ciCommit(job.pipeline) : this.repoCommit(job.pipeline.commit);
    entity.runner = job.runner ? runner(job.runner) : null;
    entity.pipeline = { id: job.pipeline.id, sha: job.pipeline.commit.sha, ref: job.pipeline.ref, status: job.pipeline.status };
    return entity;
  }

  /**
   * 9.x `API::Entities::User` (UserBasic + created_at, is_admin, profile fields), which v3 builds
   * embedded; 8.x's documented build example shows the same keys. `web_url` uses 8.x's `/u/:username` form.
   */
  user(user: User): object {
    let entity = this.#users.get(user.id);
    if (!entity) {
      entity = {
        id: user.id,
        name: user.name,
        username: user.username,
        state: user.state,
        avatar_url: user.avatarUrl,
        web_url: `${this.#origin}/u/${user.username}`,
        created_at: iso(user.createdAt),
        is_admin: user.admin,
        bio: user.bio,
        location: user.location,
        skype: '',
        linkedin: '',
        twitter: '',
        website_url: '',
        organization: user.organization,
      };
      this.#users.set(user.id, entity);
    }
    return entity;
  }

  /** 9.x `API::Entities::RepoCommit` (8.x's documented build example shows its 8.x subset). */
  repoCommit(commit: Commit): object {
    let entity = this.#commits.get(commit.sha);
    if (!entity) {
      entity = {
        id: commit.sha,
        short_id: commit.sha.slice(0, 8),
        title: commit.title,
        created_at: iso(commit.committedAt),
        parent_ids: commit.parentIds,
        message: commit.message,
        author_name: commit.author.name,
        author_email: commit.author.email,
        authored_date: iso(commit.authoredAt),
        committer_name: commit.author.name,
        committer_email: commit.author.email,
        committed_date: iso(commit.committedAt),
      };
      this.#commits.set(commit.sha, entity);
    }
    return entity;
  }
}

/**
 * Early 8.x `Ci::Commit` (today's pipeline): its id is the pipeline's. `ref` is null as in early 8.x's
 * documented example:
 * from 8.1 the ref lived on the builds and CI commits no longer set theirs.
 */
function ciCommit(pipeline: Pipeline): object {
  return { id: pipeline.id, sha: pipeline.commit.sha, ref: null, committed_at: iso(pipeline.commit.committedAt) };
}

/** 9.x `API::Entities::Runner`. */
function runner(r: Runner): object {
  return { id: r.id, description: r.description, active: true, is_shared: r.isShared, name: r.name };
}
