/**
 * What GitLab's v3 and v4 REST APIs share: the project, pipeline, commit and user reads, the whole-log
 * trace, the job mutations and the error handling. Each version's adapter adds its paths, its build
 * entity and its list semantics.
 */
import { BuildgateError, badUserInput } from '../errors.js';
import {
  type GitLabCommit,
  type GitLabJob,
  type GitLabPipeline,
  type GitLabProject,
  type GitLabUser,
  toCommit,
  toPipeline,
  toProject,
  toUser,
} from './gitlab-entities.js';
import { type UpstreamHttp, encodePath, firstHeader } from './http.js';
import { UpstreamBodyError } from './errors.js';
import { cutWindow, readLogBytes, skipBytes } from './log-window.js';
import { Utf8Cutter } from './utf8-cutter.js';
import { pipelineAction } from './gitlab-pipeline-actions.js';
import type { OffsetPage } from './offset-paging.js';
import type {
  BuildListRequest,
  BuildModel,
  BuildPage,
  BuildStageModel,
  CommitModel,
  PipelineListRequest,
  PipelineModel,
  PipelinePage,
  ProjectModel,
  TraceFrom,
  TraceSlice,
  TraceWindow,
  UpstreamKind,
  UserModel,
} from '../model.js';
import type { CallContext, Upstream } from './types.js';

/** GitLab's Kaminari `max_per_page`. */
export const GITLAB_MAX_PER_PAGE = 100;

/** GitLab serves the whole log on every read, so one answer carries at most this many bytes. */
export const GITLAB_MAX_TRACE_BYTES = 1024 * 1024;

export abstract class GitLabUpstreamBase implements Upstream {
  abstract readonly kind: UpstreamKind;
  readonly traceUnit = 'BYTES' as const;
  readonly finishedBuildsAreFinal = true;
  readonly maxTraceLimit = GITLAB_MAX_TRACE_BYTES;
  readonly name: string;
  readonly baseUrl: string;
  protected readonly http: UpstreamHttp;
  /** `jobs` in v4, `builds` in v3. */
  protected abstract readonly buildsSegment: string;

  /** Over the registry's HTTP client for this upstream. */
  constructor(http: UpstreamHttp) {
    this.http = http;
    this.name = http.upstream;
    this.baseUrl = http.baseUrl;
  }

  abstract listBuilds(call: CallContext, request: BuildListRequest): Promise<BuildPage>;
  abstract listPipelines(call: CallContext, request: PipelineListRequest): Promise<PipelinePage>;
  /** One build entity of this API version as a model. */
  protected abstract toBuild(projectId: string, job: GitLabJob): BuildModel;

  /** A job id; leading zeros name the same job (`007` is `7`), so they are dropped. */
  parseBuildLocator(input: string): string {
    const id = /^\d{1,18}$/.test(input) ? input.replace(/^0+(?=\d)/, '') : '';
    if (!/^[1-9]\d{0,17}$/.test(id)) throw badUserInput(`"${input.slice(0, 80)}" is not a GitLab job id`, { argument: 'id' });
    return id;
  }

  getBuild(call: CallContext, projectId: string, locator: string): Promise<BuildModel> {
    return this.#jobRequest(call, 'GET', this.buildPath(projectId, locator), projectId);
  }

  async getStages(): Promise<BuildStageModel[] | null> {
    return null;
  }

  /**
   * The window streamed and cut short (log-window.ts): a 1-byte window of a 16 MiB log reads five
   * bytes where `Range` is honoured, and stops after `offset + limit + 4` where it is not. The slice keeps
   * its raw `bytes`, so the per-request trace loader can cut narrower windows out of one read.
   */
  async readTrace(call: CallContext, projectId: string, locator: string, window: TraceWindow): Promise<TraceSlice> {
    const read = await readLogBytes(this.http, call, `${this.buildPath(projectId, locator)}/trace`, window.offset, window.limit);
    const slice = cutWindow(read, window.offset, window.limit);
    return { ...slice, bytes: read.bytes.subarray(slice.offset - read.offset, slice.nextOffset - read.offset) };
  }

  /**
   * GitLab sends the whole log on every read. Ask for `Range: bytes=N-` anyway and use a 206 where an
   * upstream (or a proxy in front of it) gives one; on a 200, skip the first N bytes as they stream by.
   */
  async *streamTrace(call: CallContext, projectId: string, locator: string, from: TraceFrom): AsyncIterable<TraceSlice> {
    const response = await this.http.getStream(call, {
      path: `${this.buildPath(projectId, locator)}/trace`,
      headers: { accept: 'text/plain', range: `bytes=${from.offset}-` },
      acceptStatuses: [416],
    });
    if (response.status === 416) {
      await response.dump();
      return;
    }
    let skip = from.offset;
    if (response.status === 206) {
      const start = /^bytes (\d+)-/.exec(firstHeader(response.headers['content-range']) ?? '');
      skip = start ? from.offset - Number(start[1]) : from.offset;
      if (skip < 0) throw new UpstreamBodyError(this.name, 'a range that starts too late');
    }
    const cutter = new Utf8Cutter(from.offset);
    for await (const chunk of skipBytes(response.body, { bytes: skip })) {
      const slice = cutter.push(chunk);
      if (slice) yield slice;
    }
  }

  async getProject(call: CallContext, projectId: string): Promise<ProjectModel> {
    const { data } = await this.http.getJson<GitLabProject>(call, { path: encodePath`/projects/${projectId}` });
    return toProject(this.name, projectId, data);
  }

  async getPipeline(call: CallContext, projectId: string, pipelineId: string): Promise<PipelineModel> {
    const { data } = await this.http.getJson<GitLabPipeline>(call, {
      path: encodePath`/projects/${projectId}/pipelines/${pipelineId}`,
    });
    return toPipeline(this.name, projectId, data);
  }

  async getCommit(call: CallContext, projectId: string, sha: string): Promise<CommitModel> {
    const { data } = await this.http.getJson<GitLabCommit>(call, {
      path: encodePath`/projects/${projectId}/repository/commits/${sha}`,
    });
    return toCommit(this.name, projectId, data);
  }

  async getUser(call: CallContext, userId: string): Promise<UserModel> {
    const { data } = await this.http.getJson<GitLabUser>(call, { path: encodePath`/users/${userId}` });
    return toUser(this.name, data);
  }

  /** GitLab retries whole jobs: the kind declares no `retryOptions`, so none reach here. */
  retry(call: CallContext, projectId: string, locator: string): Promise<BuildModel> {
    return this.#jobRequest(call, 'POST', `${this.buildPath(projectId, locator)}/retry`, projectId);
  }

  cancel(call: CallContext, projectId: string, locator: string): Promise<BuildModel> {
    return this.#jobRequest(call, 'POST', `${this.buildPath(projectId, locator)}/cancel`, projectId);
  }

  erase(call: CallContext, projectId: string, locator: string): Promise<BuildModel> {
    return this.#jobRequest(call, 'POST', `${this.buildPath(projectId, locator)}/erase`, projectId);
  }

  play(call: CallContext, projectId: string, locator: string): Promise<BuildModel> {
    return this.#jobRequest(call, 'POST', `${this.buildPath(projectId, locator)}/play`, projectId);
  }

  retryPipeline(call: CallContext, projectId: string, pipelineId: string): Promise<PipelineModel> {
    return pipelineAction(this.http, call, projectId, pipelineId, 'retry');
  }

  cancelPipeline(call: CallContext, projectId: string, pipelineId: string): Promise<PipelineModel> {
    return pipelineAction(this.http, call, projectId, pipelineId, 'cancel');
  }

  protected buildPath(projectId: string, buildId: string | number): string {
    return `${encodePath`/projects/${projectId}`}/${this.buildsSegment}/${encodeURIComponent(String(buildId))}`;
  }

  /** Where a build's artifacts archive downloads from, in this API version. */
  protected archiveUrl(projectId: string | number, job: GitLabJob): string | null {
    const hasArchive = job.artifacts_file || job.artifacts?.some((artifact) => artifact.file_type === 'archive');
    return hasArchive ? `${this.baseUrl}${this.buildPath(String(projectId), job.id)}/artifacts` : null;
  }

  async #jobRequest(call: CallContext, method: 'GET' | 'POST', path: string, projectId: string): Promise<BuildModel> {
    const { data } =
      method === 'GET' ? await this.http.getJson<GitLabJob>(call, { path }) : await this.http.postJson<GitLabJob>(call, { path });
    if (!data || typeof data !== 'object' || typeof data.id !== 'number') {
      throw new BuildgateError('UPSTREAM_ERROR', `upstream "${this.name}" sent a build without an id`, { upstream: this.name });
    }
    return this.toBuild(projectId, data);
  }

  /** One page of a build list, with GitLab's paging headers read. */
  protected async fetchJobs(
    call: CallContext,
    path: string,
    page: number,
    perPage: number,
    scope: readonly string[] | string | undefined,
  ): Promise<OffsetPage<GitLabJob>> {
    const { data, headers } = await this.http.getJson<GitLabJob[]>(call, {
      path,
      query: { page, per_page: perPage, scope: typeof scope === 'string' ? scope : scope?.length ? scope : undefined },
    });
    if (!Array.isArray(data)) {
      throw new BuildgateError('UPSTREAM_ERROR', `upstream "${this.name}" sent a build list that is not an array`, {
        upstream: this.name,
      });
    }
    const next = firstHeader(headers['x-next-page']);
    const total = firstHeader(headers['x-total']);
    return {
      items: data,
      hasNext: next !== undefined && next !== '',
      total: total !== undefined && total !== '' && Number.isFinite(Number(total)) ? Number(total) : null,
    };
  }
}


export function parseOffset(position: string | undefined): number {
  if (position === undefined) return 0;
  const offset = Number(position);
  if (!Number.isSafeInteger(offset) || offset < 0) throw badUserInput('`after` is not a cursor of this list', { argument: 'after' });
  return offset;
}
