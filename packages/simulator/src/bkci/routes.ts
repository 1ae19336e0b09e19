/**
 * The bk-ci apigw v3 routes the gateway needs (bk-ci's `ApigwBuildResourceV3`, `ApigwLogResourceV3` and
 * `ApigwPipelineResourceV3`, in src/backend/ci/core/openapi of https://github.com/TencentBlueKing/bk-ci), as
 * rows below one prefix; index.ts mounts them under each of `apigw`, `apigw-user` and `apigw-app`.
 * Every handler checks the caller's permission first (VIEW to read, EXECUTE to act), then that the
 * pipeline and the build exist, then does its work and answers `Result<T>`.
 */
import type { Reply } from '../http.js';
import type { Params } from '../query.js';
import { can } from './auth.js';
import type { BkPermission } from './auth.js';
import type { BkClock } from './clock.js';
import { buildHistory, buildStatus, modelDetail, pipelineRecord } from './entities.js';
import { BK_CODES, buildNotFound, fail, isBkError, ok, paramInvalid, paramMissing, pipelineNotFound } from './errors.js';
import type { BkError } from './errors.js';
import type { BkGenContext } from './generator.js';
import { newBuild } from './generator.js';
import { buildIdOf } from './lifecycle.js';
import { lastLineNo, readLines } from './logs.js';
import type { LogFilter } from './logs.js';
import type { BkBuild, BkPipeline } from './model.js';
import { isBuildFinished } from './model.js';

export interface BkRequest {
  /** Route parameters, percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: Params;
  /** A JSON object body (start parameters); empty for GET. */
  readonly body: Params;
  /** The caller, as auth.ts identified them. */
  readonly user: string;
  readonly now: number;
}

export type BkHandler = (req: BkRequest) => Reply;

export interface BkRouteRow {
  readonly method: 'GET' | 'POST';
  /** Below `/ms/openapi/api/{apigwType}/v3`. */
  readonly path: string;
  readonly handler: BkHandler;
}

export interface BkRouteDeps {
  readonly ctx: BkGenContext;
  readonly clock: BkClock;
}

/** `after` pages at most this many lines (bk-ci scrolls up to ~30,000; smaller pages exercise hasMore). */
export const AFTER_PAGE_LINES = 500;
/** `init` answers at most this many lines (bk-ci: 10,000). */
export const INIT_PAGE_LINES = 1000;
/** `more` defaults to `num=100` lines and answers at most this many. */
export const MORE_MAX_LINES = 1000;
export const HISTORY_MAX_PAGE_SIZE = 100;
const DEFAULT_PAGE_SIZE = 20;

const PIPELINE = '/projects/:projectId/pipelines/:pipelineId';
const BUILD = `${PIPELINE}/builds/:buildId`;

function param(query: Params, name: string): string | undefined {
  const value = query[name];
  const text = Array.isArray(value) ? value[value.length - 1] : typeof value === 'string' ? value : undefined;
  return text === undefined || text === '' ? undefined : text;
}

/** JAX-RS `Int`/`Long` query parameters: absent → fallback, not a number → 400. */
function intParam(query: Params, name: string, fallback: number): number | BkError {
  const raw = param(query, name);
  if (raw === undefined) return fallback;
  return /^-?\d{1,15}$/.test(raw) ? Number(raw) : paramInvalid(name, raw);
}

function requiredInt(query: Params, name: string): number | BkError {
  return param(query, name) === undefined ? paramMissing(name) : intParam(query, name, 0);
}

/** JAX-RS `Boolean`: only "true" (any case) is true. */
const boolParam = (query: Params, name: string, fallback: boolean): boolean => {
  const raw = param(query, name);
  return raw === undefined ? fallback : raw.toLowerCase() === 'true';
};

function forbidden(user: string, projectId: string, permission: BkPermission, pipelineId?: string): BkError {
  const action = permission === 'VIEW' ? '查看' : '执行';
  const what = pipelineId === undefined ? '流水线' : `流水线(${pipelineId})`;
  return { http: 403, code: BK_CODES.NO_PERMISSION, message: `用户(${user})无权限在项目(${projectId})下${action}${what}` };
}

function totalPages(count: number, pageSize: number): number {
  return Math.ceil(count / pageSize);
}

export function bkciRoutes({ ctx, clock }: BkRouteDeps): BkRouteRow[] {
  const { store, lifecycle, seed } = ctx;

  function pipelineOf(req: BkRequest, permission: BkPermission): BkPipeline | BkError {
    const { projectId = '', pipelineId = '' } = req.params;
    if (!can(req.user, projectId, permission)) return forbidden(req.user, projectId, permission, pipelineId);
    return store.pipeline(projectId, pipelineId) ?? pipelineNotFound(pipelineId);
  }

  function buildOf(req: BkRequest, permission: BkPermission): BkBuild | BkError {
    const pipeline = pipelineOf(req, permission);
    if (isBkError(pipeline)) return pipeline;
    const buildId = req.params.buildId ?? '';
    const build = store.builds.get(buildId);
    // A build of another pipeline is "not found" here (bk-ci's retry says ERROR_PIPLEINE_INPUT; one answer is simpler).
    return build && build.pipeline === pipeline ? build : buildNotFound(buildId);
  }

  const withBuild =
    (permission: BkPermission, handle: (build: BkBuild, req: BkRequest) => Reply): BkHandler =>
    (req) => {
      const build = buildOf(req, permission);
      return isBkError(build) ? fail(build) : handle(build, req);
    };

  function listPipelines(req: BkRequest): Reply {
    const projectId = req.params.projectId ?? '';
    if (!can(req.user, projectId, 'VIEW')) return fail(forbidden(req.user, projectId, 'VIEW'));
    const page = intParam(req.query, 'page', 1);
    const size = intParam(req.query, 'pageSize', DEFAULT_PAGE_SIZE);
    if (isBkError(page)) return fail(page);
    if (isBkError(size)) return fail(size);
    const p = Math.max(1, page);
    const pageSize = size < 1 ? DEFAULT_PAGE_SIZE : Math.min(size, 1000);
    const all = [...(store.projects.get(projectId)?.pipelines.values() ?? [])];
    const records = all.slice((p - 1) * pageSize, p * pageSize).map((pipeline) => pipelineRecord(pipeline, req.now));
    return ok({ count: all.length, page: p, pageSize, totalPages: totalPages(all.length, pageSize), records });
  }

  function history(req: BkRequest): Reply {
    const pipeline = pipelineOf(req, 'VIEW');
    if (isBkError(pipeline)) return fail(pipeline);
    const page = intParam(req.query, 'page', 1);
    const size = intParam(req.query, 'pageSize', DEFAULT_PAGE_SIZE);
    if (isBkError(page)) return fail(page);
    if (isBkError(size)) return fail(size);
    const p = Math.max(1, page);
    const pageSize = size < 1 ? DEFAULT_PAGE_SIZE : Math.min(size, HISTORY_MAX_PAGE_SIZE);
    const order = param(req.query, 'updateTimeDesc');
    const { builds } = pipeline;
    let chosen: BkBuild[];
    if (order === undefined) {
      // Newest build number first, read straight from the number-ordered array: O(pageSize).
      chosen = [];
      for (let i = builds.length - 1 - (p - 1) * pageSize; i >= 0 && chosen.length < pageSize; i--) chosen.push(builds[i] as BkBuild);
    } else {
      const desc = order.toLowerCase() === 'true';
      const sorted = [...builds].sort((a, b) => (desc ? b.updateTime - a.updateTime : a.updateTime - b.updateTime) || b.buildNum - a.buildNum);
      chosen = sorted.slice((p - 1) * pageSize, p * pageSize);
    }
    const records = chosen.map((b) => buildHistory(b, req.now));
    return ok({
      count: builds.length,
      page: p,
      pageSize,
      totalPages: totalPages(builds.length, pageSize),
      records,
      hasDownloadPermission: true,
      pipelineVersion: pipeline.version,
    });
  }

  function start(req: BkRequest): Reply {
    const pipeline = pipelineOf(req, 'EXECUTE');
    if (isBkError(pipeline)) return fail(pipeline);
    const params: Record<string, string> = {};
    for (const [key, value] of Object.entries(req.body)) if (typeof value === 'string') params[key] = value;
    const build = newBuild(ctx, pipeline, { userId: req.user, trigger: 'SERVICE', params, now: req.now });
    lifecycle.enqueue(build);
    return ok(buildIdOf(build));
  }

  const stop = withBuild('EXECUTE', (build, req) => {
    const result = lifecycle.stop(build, req.user, req.now);
    if (result !== true) return fail(result);
    clock.topUp(req.now);
    return ok(true);
  });

  const retry = withBuild('EXECUTE', (build, req) => {
    const result = lifecycle.retry(
      build,
      { taskId: param(req.query, 'taskId'), failedContainer: boolParam(req.query, 'failedContainer', false), skip: boolParam(req.query, 'skip', false) },
      req.user,
      req.now,
    );
    // channelCode is accepted and ignored, as current bk-ci does (the apigw derives the channel itself).
    return isBkError(result) ? fail(result) : ok(result);
  });

  /** The filters every log route shares; executeCount defaults to 1 as in bk-ci's log service (`executeCount ?: 1`). */
  function logFilter(query: Params): LogFilter | BkError {
    const executeCount = intParam(query, 'executeCount', 1);
    if (isBkError(executeCount)) return executeCount;
    return { executeCount: Math.max(1, executeCount), tag: param(query, 'tag'), job: param(query, 'containerHashId') ?? param(query, 'jobId') };
  }

  /** `finished`: the asked attempt has ended (an earlier attempt, or the build is over). */
  const attemptEnded = (build: BkBuild, executeCount: number): boolean => executeCount < build.executeCount || isBuildFinished(build.status);

  function queryLogs(build: BkBuild, filter: LogFilter, from: number, to: number, limit: number, fromEnd = false): Reply {
    const started = performance.now();
    const slice = readLines(seed, build, filter, from, to, limit, fromEnd);
    return ok({
      buildId: build.id,
      finished: attemptEnded(build, filter.executeCount),
      hasMore: slice.total > slice.lines.length,
      logs: slice.lines,
      timeUsed: Math.round(performance.now() - started),
      status: 0,
      subTags: [],
      message: null,
    });
  }

  const logsInit = withBuild('VIEW', (build, req) => {
    const filter = logFilter(req.query);
    return isBkError(filter) ? fail(filter) : queryLogs(build, filter, 1, Infinity, INIT_PAGE_LINES);
  });

  const logsAfter = withBuild('VIEW', (build, req) => {
    const filter = logFilter(req.query);
    const start = requiredInt(req.query, 'start');
    if (isBkError(filter)) return fail(filter);
    if (isBkError(start)) return fail(start);
    return queryLogs(build, filter, start, Infinity, AFTER_PAGE_LINES);
  });

  const logsMore = withBuild('VIEW', (build, req) => {
    const filter = logFilter(req.query);
    const start = requiredInt(req.query, 'start');
    const end = requiredInt(req.query, 'end');
    const num = intParam(req.query, 'num', 100);
    for (const value of [filter, start, end, num]) if (isBkError(value)) return fail(value);
    const limit = Math.min(Math.max(1, num as number), MORE_MAX_LINES);
    return queryLogs(build, filter as LogFilter, start as number, end as number, limit, !boolParam(req.query, 'fromStart', true));
  });

  return [
    { method: 'GET', path: '/projects/:projectId/pipelines', handler: listPipelines },
    {
      method: 'GET',
      // bk-ci's ApigwPipelineResourceV3 `status`: Result<Pipeline?>, the one cheap read of a pipeline.
      path: `${PIPELINE}/status`,
      handler: (req) => {
        const pipeline = pipelineOf(req, 'VIEW');
        return isBkError(pipeline) ? fail(pipeline) : ok(pipelineRecord(pipeline, req.now));
      },
    },
    { method: 'POST', path: `${PIPELINE}/builds/start`, handler: start },
    { method: 'GET', path: `${PIPELINE}/builds/history`, handler: history },
    { method: 'POST', path: `${BUILD}/stop`, handler: stop },
    { method: 'POST', path: `${BUILD}/retry`, handler: retry },
    { method: 'GET', path: `${BUILD}/status`, handler: withBuild('VIEW', (build, req) => ok(buildStatus(build, req.now))) },
    { method: 'GET', path: `${BUILD}/detail`, handler: withBuild('VIEW', (build, req) => ok(modelDetail(build, req.now))) },
    { method: 'GET', path: `${BUILD}/logs/init`, handler: logsInit },
    { method: 'GET', path: `${BUILD}/logs/after`, handler: logsAfter },
    { method: 'GET', path: `${BUILD}/logs/more`, handler: logsMore },
    {
      method: 'GET',
      path: `${BUILD}/logs/last_line_num`,
      handler: withBuild('VIEW', (build) => ok({ buildId: build.id, finished: isBuildFinished(build.status), lastLineNum: lastLineNo(build) })),
    },
  ];
}
