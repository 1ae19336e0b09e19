/**
 * The bk-ci open API gateway adapter (`…/ms/openapi/api/apigw/v3`). Builds live under pipelines, so a
 * build's locator is `pipelineId/buildId`; a pipeline's builds are its history; a retry runs the same
 * build again with `executeCount` + 1, and logs are read per attempt by line number.
 */
import { BuildgateError, type ErrorCode, badUserInput, unsupported } from '../errors.js';
import {
  type BkciBuild,
  type BkciModelDetail,
  type BkciPage,
  type BkciPipeline,
  type BkciQueryLogs,
  type BkciResult,
  toBkciBuild,
  toBkciPipeline,
  toBkciStages,
  toBkciUser,
} from './bkci-entities.js';
import { RUN_ID, getBkciRun, listBkciRuns } from './bkci-pipelines.js';
import { parseOffset } from './gitlab-common.js';
import { type QueryValue, type UpstreamHttp, encodePath, upstreamMessage } from './http.js';
import { linesWindow } from './line-window.js';
import { type FetchOffsetPage, readFilteredWindow, readOffsetWindow, readSequence } from './offset-paging.js';
import { forwardOnly, isBackward, readWindow } from './offset-window.js';
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
  RetryOptions,
  TraceFrom,
  TraceSlice,
  NumberedLine,
  TraceWindow,
  UserModel,
} from '../model.js';
import type { CallContext, Upstream } from './types.js';

/** bk-ci's history `pageSize` limit. */
const BKCI_MAX_PAGE_SIZE = 100;
/** Most log lines one trace read returns. */
export const BKCI_MAX_TRACE_LINES = 5000;

/** bk-ci's process error codes (`ProcessMessageCode` in bk-ci's api-process) where the HTTP status alone says too little. */
const CODE_BY_ERROR: Record<number, ErrorCode> = {
  2101163: 'NOT_FOUND', // build does not exist
  2101164: 'NOT_FOUND', // pipeline does not exist
  2101129: 'BAD_USER_INPUT', // retry of a running build
  2101179: 'BAD_USER_INPUT', // stop of a finished build
};

const PIPELINE_ID = /^p-[A-Za-z0-9]{1,64}$/;
const BUILD_ID = /^b-[A-Za-z0-9]{1,64}$/;
/** A build id on its own, as bk-ci mints them (`b-` and a dashless UUID): strict, so typos fail without a lookup. */
const BARE_BUILD_ID = /^b-[0-9a-f]{32}$/;

export class BkciApigwUpstream implements Upstream {
  readonly kind = 'bkci-apigw' as const;
  readonly traceUnit = 'LINES' as const;
  readonly finishedBuildsAreFinal = false;
  readonly maxTraceLimit = BKCI_MAX_TRACE_LINES;
  readonly name: string;
  readonly baseUrl: string;
  readonly #http: UpstreamHttp;
  readonly #consoleOrigin: string;

  /** Over the registry's HTTP client, made with `describeBkciError`. */
  constructor(http: UpstreamHttp) {
    this.#http = http;
    this.name = http.upstream;
    this.baseUrl = this.#http.baseUrl;
    this.#consoleOrigin = new URL(this.baseUrl).origin;
  }

  /**
   * `pipelineId/buildId`, or the bare build id a build's `upstreamId` shows (`b-…`): the v3 API wants
   * the pipeline too, so a bare id is looked up among the project's pipelines when it is used.
   */
  parseBuildLocator(input: string): string {
    if (BARE_BUILD_ID.test(input)) return input;
    const [pipelineId, buildId, ...rest] = input.split('/');
    if (rest.length > 0 || !pipelineId || !buildId || !PIPELINE_ID.test(pipelineId) || !BUILD_ID.test(buildId)) {
      throw badUserInput(`"${input.slice(0, 80)}" is not a bk-ci build: use "pipelineId/buildId" or "buildId", e.g. "p-demo/b-1f…"`, {
        argument: 'id',
      });
    }
    return input;
  }

  /** The pipeline and build ids of a locator, looking a bare build id up (see `#findBuild`). */
  async #locate(call: CallContext, projectId: string, locator: string): Promise<[pipelineId: string, buildId: string]> {
    if (locator.includes('/')) return locator.split('/') as [string, string];
    return [(await this.#findBuild(call, projectId, locator)).pipelineId, locator];
  }

  /**
   * A build known by its id alone: the v3 API reads builds only under their pipeline, so each of the
   * project's pipelines is asked in turn (one request each, all within the operation's budget) until
   * one has it. bk-ci answers 404 (2101163) for a build of another pipeline.
   */
  async #findBuild(call: CallContext, projectId: string, buildId: string): Promise<{ pipelineId: string; build: BkciBuild }> {
    const pipelines = await this.#get<BkciPage<BkciPipeline>>(call, encodePath`/projects/${projectId}/pipelines`, {
      page: 1,
      pageSize: BKCI_MAX_PAGE_SIZE,
    });
    for (const { pipelineId } of pipelines.records ?? []) {
      try {
        return { pipelineId, build: await this.#get<BkciBuild>(call, this.#buildPath(projectId, pipelineId, buildId, '/status')) };
      } catch (error) {
        if (!(error instanceof BuildgateError && error.code === 'NOT_FOUND')) throw error;
      }
    }
    throw new BuildgateError('NOT_FOUND', `upstream "${this.name}" has no build "${buildId}" in project "${projectId.slice(0, 80)}"`, {
      upstream: this.name,
    });
  }

  async listBuilds(call: CallContext, request: BuildListRequest): Promise<BuildPage> {
    const { source } = request;
    if (source.of === 'commit') throw unsupported(this.name, 'Listing the builds of a commit');
    if (source.of === 'project') return this.#listProjectBuilds(call, request, source.projectId);
    const start = parseOffset(request.after);
    if (source.bridges) return { builds: [], positions: [], hasNextPage: false, hasPreviousPage: start > 0, totalCount: 0 };
    // A pipeline run (`p-…/b-…`, from `Project.pipelines`) has one build: itself.
    if (RUN_ID.test(source.pipelineId)) {
      const build = start > 0 || request.last !== undefined ? undefined : await this.getBuild(call, source.projectId, source.pipelineId);
      return { builds: build ? [build] : [], positions: build ? ['1'] : [], hasNextPage: false, hasPreviousPage: start > 0, totalCount: 1 };
    }
    return this.#listPipelineBuilds(call, request, source.projectId, source.pipelineId, start);
  }

  /** bk-ci has no project-wide build list: a project's builds are its pipelines' histories, one after the other. */
  async #listProjectBuilds(call: CallContext, request: BuildListRequest, projectId: string): Promise<BuildPage> {
    forwardOnly(request, this.name, "a project's builds (its pipelines' histories one after the other)");
    const pipelines = await this.#get<BkciPage<BkciPipeline>>(call, encodePath`/projects/${projectId}/pipelines`, {
      page: 1,
      pageSize: BKCI_MAX_PAGE_SIZE,
    });
    const records = pipelines.records ?? [];
    const read = (index: number, after: string | undefined, first: number) =>
      this.#listPipelineBuilds(call, { ...request, first }, projectId, records[index]!.pipelineId, parseOffset(after));
    return readSequence(records.length, read, request.after, request.first);
  }

  async #listPipelineBuilds(
    call: CallContext,
    request: BuildListRequest,
    projectId: string,
    pipelineId: string,
    start: number,
  ): Promise<BuildPage> {
    const fetch: FetchOffsetPage<BkciBuild> = async (page, pageSize) => {
      const history = await this.#get<BkciPage<BkciBuild>>(call, this.#pipelinePath(projectId, pipelineId, '/builds/history'), {
        page,
        pageSize,
      });
      return { items: history.records ?? [], hasNext: history.page < history.totalPages, total: history.count ?? null };
    };
    const wanted = request.statuses?.length ? new Set(request.statuses) : undefined;
    const toBuild = (build: BkciBuild) => toBkciBuild(this.#mapping, projectId, pipelineId, build);
    if (isBackward(request)) {
      forwardOnly(wanted ? request : {}, this.name, 'a build list the gateway filters');
      const page = await readWindow(fetch, { count: request.first, last: request.last, before: request.before }, this.name, BKCI_MAX_PAGE_SIZE);
      return { ...page, builds: page.items.map(toBuild) };
    }
    if (wanted) {
      // The v3 history has no status filter: read on and keep the builds that match.
      const window = await readFilteredWindow(fetch, (build) => wanted.has(toBuild(build).status), start, request.first, BKCI_MAX_PAGE_SIZE);
      return {
        builds: window.items.map(toBuild),
        positions: window.positions.map(String),
        hasNextPage: window.hasNext,
        hasPreviousPage: start > 0,
        totalCount: null,
      };
    }
    const window = await readOffsetWindow(fetch, start, request.first);
    const builds = window.items.slice(0, request.first);
    return {
      builds: builds.map(toBuild),
      positions: builds.map((_, i) => String(start + i + 1)),
      hasNextPage: window.hasNext || window.items.length > request.first,
      hasPreviousPage: start > 0,
      totalCount: window.total,
    };
  }

  async getBuild(call: CallContext, projectId: string, locator: string): Promise<BuildModel> {
    if (!locator.includes('/')) {
      const { pipelineId, build } = await this.#findBuild(call, projectId, locator);
      return toBkciBuild(this.#mapping, projectId, pipelineId, { ...build, id: build.id ?? locator });
    }
    const [pipelineId, buildId] = locator.split('/') as [string, string];
    const build = await this.#get<BkciBuild>(call, this.#buildPath(projectId, pipelineId, buildId, '/status'));
    return toBkciBuild(this.#mapping, projectId, pipelineId, { ...build, id: build.id ?? buildId });
  }

  async getStages(call: CallContext, projectId: string, locator: string): Promise<BuildStageModel[]> {
    const [pipelineId, buildId] = await this.#locate(call, projectId, locator);
    return toBkciStages(await this.#get<BkciModelDetail>(call, this.#buildPath(projectId, pipelineId, buildId, '/detail')));
  }

  /** Pages from `offset` until `limit` lines are in; the lines keep their numbers (see `NumberedLine`). */
  async readTrace(call: CallContext, projectId: string, locator: string, window: TraceWindow): Promise<TraceSlice> {
    const lines: NumberedLine[] = [];
    let atEnd = true;
    // The log's end as far as the pages read show it: a page holds lines past the window's end, and
    // the last page of the log (no `hasMore`) ends where the log does.
    let seenEnd = 0;
    let logGoesOn = false;
    for await (const page of this.#logPages(call, projectId, locator, window)) {
      if (page.lines.length > 0) seenEnd = page.lines.at(-1)!.lineNo + 1;
      logGoesOn = page.hasMore;
      for (const line of page.lines) {
        if (lines.length === window.limit) break;
        lines.push(line);
      }
      if (lines.length === window.limit) {
        atEnd = false;
        break;
      }
    }
    // Past the pages read, or a window past the end (no line seen): the log's last line number says.
    const size = logGoesOn || seenEnd === 0 ? await this.#logSize(call, projectId, locator) : seenEnd;
    return linesWindow(lines, window.offset, window.limit, atEnd, size);
  }

  /** The next line number the build's log will write (`last_line_num` counts the whole build). */
  async #logSize(call: CallContext, projectId: string, locator: string): Promise<number> {
    const [pipelineId, buildId] = await this.#locate(call, projectId, locator);
    const { lastLineNum } = await this.#get<{ lastLineNum?: number }>(call, this.#buildPath(projectId, pipelineId, buildId, '/logs/last_line_num'));
    return typeof lastLineNum === 'number' && lastLineNum >= 0 ? lastLineNum + 1 : 0;
  }

  async *streamTrace(call: CallContext, projectId: string, locator: string, from: TraceFrom): AsyncIterable<TraceSlice> {
    let next = from.offset;
    for await (const page of this.#logPages(call, projectId, locator, from)) {
      if (page.lines.length === 0) continue;
      const offset = next;
      next = page.lines.at(-1)!.lineNo + 1;
      yield { offset, nextOffset: next, content: page.lines.map((line) => line.text).join(''), size: next, atEnd: !page.hasMore };
    }
  }

  /**
   * The attempt's log from line `offset` on, page by page: `after` is inclusive and pages by itself
   * (`hasMore`); a line is its message and a newline.
   */
  async *#logPages(call: CallContext, projectId: string, locator: string, from: TraceFrom) {
    const [pipelineId, buildId] = await this.#locate(call, projectId, locator);
    const attempt = from.attempt ?? (await this.getBuild(call, projectId, locator)).attempt ?? 1;
    let next = from.offset;
    for (;;) {
      const page = await this.#get<BkciQueryLogs>(call, this.#buildPath(projectId, pipelineId, buildId, '/logs/after'), {
        start: next,
        executeCount: attempt,
      });
      const lines = (page.logs ?? [])
        .filter((line) => line.lineNo >= next)
        .sort((a, b) => a.lineNo - b.lineNo)
        .map((line) => ({ lineNo: line.lineNo, text: `${line.message}\n` }));
      const hasMore = page.hasMore && lines.length > 0;
      yield { lines, hasMore };
      if (!hasMore) return;
      next = lines.at(-1)!.lineNo + 1;
    }
  }

  async getProject(_call: CallContext, projectId: string): Promise<ProjectModel> {
    // The apigw build API has no project read; a project is known by its id alone.
    return { upstream: this.name, projectId, canonicalId: projectId, name: projectId, path: projectId, description: null, defaultBranch: null, visibility: null, webUrl: `${this.#consoleOrigin}/console/pipeline/${projectId}` };
  }

  /** The project's pipeline runs, newest first (bkci-pipelines.ts). */
  listPipelines(call: CallContext, request: PipelineListRequest): Promise<PipelinePage> {
    return listBkciRuns(this.#pipelineDeps, call, request);
  }

  get #pipelineDeps() {
    return { upstream: this.name, mapping: this.#mapping, get: <T>(call: CallContext, path: string, query?: Record<string, QueryValue>) => this.#get<T>(call, path, query) };
  }

  async getPipeline(call: CallContext, projectId: string, pipelineId: string): Promise<PipelineModel> {
    if (RUN_ID.test(pipelineId)) return getBkciRun(this.#pipelineDeps, call, projectId, pipelineId);
    if (!PIPELINE_ID.test(pipelineId)) throw badUserInput(`"${pipelineId}" is not a bk-ci pipeline id`, { argument: 'id' });
    const pipeline = await this.#get<BkciPipeline>(call, this.#pipelinePath(projectId, pipelineId, '/status'));
    return toBkciPipeline(this.#mapping, projectId, pipeline);
  }

  async getCommit(): Promise<CommitModel> {
    throw unsupported(this.name, 'Reading a commit');
  }

  async getUser(_call: CallContext, userId: string): Promise<UserModel> {
    return toBkciUser(this.name, userId);
  }

  async retry(call: CallContext, projectId: string, locator: string, options?: RetryOptions): Promise<BuildModel> {
    const [pipelineId, buildId] = await this.#locate(call, projectId, locator);
    await this.#post<{ id: string; executeCount?: number }>(call, this.#buildPath(projectId, pipelineId, buildId, '/retry'), {
      taskId: options?.taskId ?? undefined,
      failedContainer: options?.failedContainer ?? undefined,
      skip: options?.skip ?? undefined,
    });
    return this.getBuild(call, projectId, locator);
  }

  async cancel(call: CallContext, projectId: string, locator: string): Promise<BuildModel> {
    const [pipelineId, buildId] = await this.#locate(call, projectId, locator);
    await this.#post<boolean>(call, this.#buildPath(projectId, pipelineId, buildId, '/stop'));
    return this.getBuild(call, projectId, locator);
  }

  /** A pipeline run is one build: the pipeline's latest build is retried (run again in place). */
  retryPipeline(call: CallContext, projectId: string, pipelineId: string): Promise<PipelineModel> {
    return this.#latestBuildAction(call, projectId, pipelineId, '/retry');
  }

  /** Stops the pipeline's latest build. */
  cancelPipeline(call: CallContext, projectId: string, pipelineId: string): Promise<PipelineModel> {
    return this.#latestBuildAction(call, projectId, pipelineId, '/stop');
  }

  /** The pipeline's status names its latest build (`latestBuildId`); one POST on it, then the pipeline as it is now. */
  async #latestBuildAction(call: CallContext, projectId: string, pipelineId: string, tail: '/retry' | '/stop'): Promise<PipelineModel> {
    if (!PIPELINE_ID.test(pipelineId)) throw badUserInput(`"${pipelineId.slice(0, 80)}" is not a bk-ci pipeline id`, { argument: 'id' });
    const { latestBuildId } = await this.#get<BkciPipeline>(call, this.#pipelinePath(projectId, pipelineId, '/status'));
    if (!latestBuildId || !BUILD_ID.test(latestBuildId)) {
      throw new BuildgateError('NOT_FOUND', `upstream "${this.name}" has no build of pipeline "${pipelineId}" to act on`, { upstream: this.name });
    }
    await this.#post<unknown>(call, this.#buildPath(projectId, pipelineId, latestBuildId, tail));
    return this.getPipeline(call, projectId, pipelineId);
  }

  get #mapping() {
    return { upstream: this.name, consoleOrigin: this.#consoleOrigin };
  }

  #pipelinePath(projectId: string, pipelineId: string, tail: string): string {
    return encodePath`/projects/${projectId}/pipelines/${pipelineId}` + tail;
  }

  #buildPath(projectId: string, pipelineId: string, buildId: string, tail: string): string {
    return encodePath`/projects/${projectId}/pipelines/${pipelineId}/builds/${buildId}` + tail;
  }

  async #get<T>(call: CallContext, path: string, query?: Record<string, QueryValue>): Promise<T> {
    const { data } = await this.#http.getJson<BkciResult<T>>(call, { path, query });
    return this.#unwrap(data);
  }

  async #post<T>(call: CallContext, path: string, query?: Record<string, QueryValue>): Promise<T> {
    const { data } = await this.#http.postJson<BkciResult<T>>(call, { path, query }, {});
    return this.#unwrap(data);
  }

  /** A 200 with `status != 0` is an error too: bk-ci's `Result` carries its error code in `status`. */
  #unwrap<T>(result: BkciResult<T>): T {
    if (!result || typeof result !== 'object' || typeof result.status !== 'number') {
      throw new BuildgateError('UPSTREAM_ERROR', `upstream "${this.name}" sent a body that is not a bk-ci Result`, { upstream: this.name });
    }
    if (result.status !== 0 || result.data === undefined || result.data === null) {
      const code = CODE_BY_ERROR[result.status] ?? 'UPSTREAM_ERROR';
      throw new BuildgateError(code, `upstream "${this.name}" answered: ${result.message ?? `status ${result.status}`}`, {
        upstream: this.name,
        extensions: { upstreamCode: result.status },
      });
    }
    return result.data;
  }
}

const AUTH_FILTER_MESSAGE = /^(Request (user|bkapi jwt|accessToken) is empty|Request don't has user's access_token|Verification failed|Devops OpenAPI Auth fail)/;

/**
 * bk-ci errors: a `Result` whose `status` is a process error code, or the plain-text 400 of the auth
 * filters ("Request user is empty.", "Verification failed : …"), which means the credential was refused.
 */
export function describeBkciError(status: number, body: string): { message?: string; code?: ErrorCode; extensions?: Record<string, unknown> } | undefined {
  try {
    const parsed = JSON.parse(body) as BkciResult<unknown>;
    if (parsed && typeof parsed === 'object' && typeof parsed.status === 'number') {
      return { message: parsed.message ?? undefined, code: CODE_BY_ERROR[parsed.status], extensions: { upstreamCode: parsed.status } };
    }
  } catch {
    // The apigw auth filters answer 400 in plain text, not a `Result`; any other unreadable body is the upstream's fault.
    if (status === 400 && AUTH_FILTER_MESSAGE.test(body)) return { message: body.slice(0, 200), code: 'UNAUTHENTICATED' };
    if (body.length > 0) return { message: `HTTP ${status} with a body that is not a bk-ci Result`, code: status >= 500 ? undefined : 'UPSTREAM_ERROR' };
  }
  return { message: upstreamMessage(body) };
}
