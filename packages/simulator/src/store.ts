/**
 * The one store every simulated API reads and writes (GitLab v4 now; v3 and bk-ci later). It owns the
 * indexes the hot paths need — jobs by id, per-project id-ordered arrays — so no route scans all jobs
 * for a plain page, and it owns the token table so a control route can revoke tokens later.
 */
import type {
  Artifact,
  Commit,
  Job,
  Pipeline,
  Project,
  Runner,
  TokenGrant,
  TraceState,
  User,
} from './model.js';
import type { JobStatus } from './status.js';

export interface JobInit {
  readonly kind?: Job['kind'];
  readonly name: string;
  readonly stage: string;
  readonly stageIdx: number;
  readonly pipeline: Pipeline;
  readonly user: User;
  readonly status: JobStatus;
  readonly createdAt: number;
  readonly when?: Job['when'];
  readonly allowFailure?: boolean;
  readonly tagList?: readonly string[];
  readonly queuedAt?: number | null;
  readonly startedAt?: number | null;
  readonly finishedAt?: number | null;
  readonly coverage?: number | null;
  readonly failureReason?: string | null;
  readonly runner?: Runner | null;
  readonly artifacts?: readonly Artifact[];
  readonly artifactsExpireAt?: number | null;
  readonly retried?: boolean;
  readonly trace?: TraceState;
  readonly downstream?: Pipeline | null;
}

export type PipelineInit = Pick<Pipeline, 'project' | 'commit' | 'ref' | 'tag' | 'source' | 'user' | 'createdAt'> & {
  readonly id?: number;
};

export type CommitInit = Omit<Commit, 'pipelines' | 'parentIds'> & { readonly parentIds?: readonly string[] };

const NO_TRACE: TraceState = { kind: 'none' };

export class Store {
  readonly users = new Map<number, User>();
  readonly projects = new Map<number, Project>();
  readonly pipelines = new Map<number, Pipeline>();
  readonly jobs = new Map<number, Job>();
  readonly runners: Runner[] = [];
  /** Token → grant. A Map (not a constant) so a control route can add or revoke tokens at run time. */
  readonly tokens = new Map<string, TokenGrant>();
  /** Jobs the clock advances (pending and running ones it owns); parked statuses stay out. */
  readonly active = new Set<Job>();
  /** Pipelines with jobs still to run; the clock settles them after each change. */
  readonly livePipelines = new Set<Pipeline>();

  readonly #projectsByPath = new Map<string, Project>();
  readonly #usersByName = new Map<string, User>();
  #maxJobId = 0;
  #maxPipelineId = 0;

  addUser(user: User): User {
    this.users.set(user.id, user);
    this.#usersByName.set(user.username, user);
    return user;
  }

  userByName(username: string): User {
    const user = this.#usersByName.get(username);
    if (!user) throw new Error(`no simulated user named ${username}`);
    return user;
  }

  addProject(project: Project): Project {
    this.projects.set(project.id, project);
    this.#projectsByPath.set(project.fullPath.toLowerCase(), project);
    return project;
  }

  /** By numeric id or by `namespace/path` (already URL-decoded); paths match case-insensitively, as GitLab's do. */
  findProject(idOrPath: string): Project | undefined {
    const code = idOrPath.charCodeAt(0);
    if (code >= 48 && code <= 57 && /^\d+$/.test(idOrPath)) return this.projects.get(Number(idOrPath));
    return this.#projectsByPath.get(idOrPath.toLowerCase());
  }

  createCommit(init: CommitInit): Commit {
    const commit: Commit = { ...init, parentIds: init.parentIds ?? [], pipelines: [] };
    init.project.commits.set(commit.sha, commit);
    return commit;
  }

  createPipeline(init: PipelineInit): Pipeline {
    const id = init.id ?? this.#maxPipelineId + 1;
    if (this.pipelines.has(id)) throw new Error(`pipeline ${id} exists`);
    this.#maxPipelineId = Math.max(this.#maxPipelineId, id);
    const pipeline: Pipeline = {
      id,
      iid: init.project.pipelines.length + 1,
      project: init.project,
      commit: init.commit,
      ref: init.ref,
      tag: init.tag,
      source: init.source,
      user: init.user,
      beforeSha: init.commit.parentIds[0] ?? '0000000000000000000000000000000000000000',
      createdAt: init.createdAt,
      status: 'created',
      updatedAt: init.createdAt,
      startedAt: null,
      finishedAt: null,
      jobs: [],
      rev: 0,
    };
    this.pipelines.set(id, pipeline);
    insertById(init.project.pipelines, pipeline);
    insertById(init.commit.pipelines, pipeline);
    init.project.refHeads.set(pipeline.ref, init.commit);
    return pipeline;
  }

  /** Creates a job with the next id (always the largest, as in GitLab), indexed everywhere it is read. */
  createJob(init: JobInit): Job {
    const pipeline = init.pipeline;
    const job: Job = {
      id: ++this.#maxJobId,
      kind: init.kind ?? 'build',
      name: init.name,
      stage: init.stage,
      stageIdx: init.stageIdx,
      project: pipeline.project,
      pipeline,
      when: init.when ?? 'on_success',
      allowFailure: init.allowFailure ?? false,
      tagList: init.tagList ?? [],
      createdAt: init.createdAt,
      user: init.user,
      status: init.status,
      queuedAt: init.queuedAt ?? null,
      startedAt: init.startedAt ?? null,
      finishedAt: init.finishedAt ?? null,
      erasedAt: null,
      coverage: init.coverage ?? null,
      failureReason: init.failureReason ?? null,
      runner: init.runner ?? null,
      artifacts: init.artifacts ?? [],
      artifactsExpireAt: init.artifactsExpireAt ?? null,
      retried: init.retried ?? false,
      trace: init.trace ?? NO_TRACE,
      downstream: init.downstream ?? null,
      ticks: 0,
      rev: 0,
    };
    this.jobs.set(job.id, job);
    pipeline.jobs.push(job);
    if (job.kind === 'build') pipeline.project.builds.push(job);
    return job;
  }

  /** The largest job id handed out so far (new jobs get max+1). */
  get maxJobId(): number {
    return this.#maxJobId;
  }
}

/** Keeps an id-sorted array sorted; new ids are nearly always the largest, so this is an append. */
function insertById<T extends { readonly id: number }>(items: T[], item: T): void {
  let i = items.length;
  while (i > 0 && (items[i - 1] as T).id > item.id) i--;
  items.splice(i, 0, item);
}
