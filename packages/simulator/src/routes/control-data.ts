/**
 * Control endpoints under `/__sim` that change the simulated GitLab's data (never counted in stats):
 * tokens, added like an existing one or revoked as a GitLab user revokes a personal access token, and
 * bench jobs with big or fast logs (bench.ts). Bodies are JSON or forms; errors are Grape-style
 * `{"error":"x is invalid"}` for bad input and `{"message":…}` otherwise, as the API's are.
 */
import { BENCH_DEFAULT_NAME, BENCH_MAX_BYTES_PER_TICK, BENCH_MAX_TOTAL_BYTES, BENCH_MIN_TOTAL_BYTES } from '../bench.js';
import type { BenchJobs, BenchOutcome } from '../bench.js';
import { ERRORS, empty, invalidParam, invalidValue, json } from '../http.js';
import type { Reply } from '../http.js';
import type { ParamValue } from '../query.js';
import type { Store } from '../store.js';
import type { RequestContext, RouteModule } from './context.js';

export interface ControlDataDeps {
  readonly store: Store;
  readonly bench: BenchJobs;
}

const frozen = (status: number, body: object): Reply => Object.freeze(json(status, body));
const TOKEN_NOT_FOUND = frozen(404, { message: '404 Token Not Found' });
const TOKEN_EXISTS = frozen(409, { message: '409 Conflict - Token already exists' });
const JOB_NOT_RUNNING = frozen(409, { message: '409 Conflict - Job is not running' });

/** Printable ASCII without spaces, as a header or query parameter carries it intact. */
const TOKEN_SHAPE = /^[\x21-\x7e]{1,255}$/;

/** A whole number from `min` to `max` from a body value (always text), `fallback` when absent. */
function integerParam(value: ParamValue | undefined, fallback: number, min: number, max: number): number | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^\d{1,10}$/.test(value)) return undefined;
  const n = Number(value);
  return n >= min && n <= max ? n : undefined;
}

export function controlDataRoutes({ store, bench }: ControlDataDeps): RouteModule {
  /** `{"token": "glpat-…", "like": "glpat-developer"}` → 201: a new token with the rights of `like`. */
  function addToken(ctx: RequestContext): Reply {
    const { token, like } = ctx.body;
    if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) return invalidParam('token');
    if (typeof like !== 'string') return invalidParam('like');
    const model = store.tokens.get(like);
    if (!model) return invalidValue('like');
    if (store.tokens.has(token)) return TOKEN_EXISTS;
    store.tokens.set(token, { ...model, token });
    return json(201, { token, like, username: model.user.username, admin: model.admin });
  }

  /** 204; afterwards the token is answered 401 on every API route. 404 for a token nobody has. */
  function revokeToken(ctx: RequestContext): Reply {
    return store.tokens.delete(ctx.params.token ?? '') ? empty(204) : TOKEN_NOT_FOUND;
  }

  /**
   * `{"project": 1, "name": "bench:tail", "logBytesPerTick": 4096, "totalBytes": 209715200,
   * "status": "running"}` → 201 `{"id": …}`: a running job in a new pipeline of the project.
   */
  function createJob(ctx: RequestContext): Reply {
    const b = ctx.body;
    const projectId = b.project ?? '1';
    if (typeof projectId !== 'string') return invalidParam('project');
    const project = store.findProject(projectId);
    if (!project) return ERRORS.projectNotFound;
    const name = b.name ?? BENCH_DEFAULT_NAME;
    if (typeof name !== 'string' || name.length === 0 || name.length > 255) return invalidParam('name');
    if ((b.status ?? 'running') !== 'running') return invalidValue('status');
    const totalBytes = integerParam(b.totalBytes, 1 << 20, BENCH_MIN_TOTAL_BYTES, BENCH_MAX_TOTAL_BYTES);
    if (totalBytes === undefined) return invalidParam('totalBytes');
    const logBytesPerTick = integerParam(b.logBytesPerTick, 4096, 1, BENCH_MAX_BYTES_PER_TICK);
    if (logBytesPerTick === undefined) return invalidParam('logBytesPerTick');
    const job = bench.create({ project, name, logBytesPerTick, totalBytes }, ctx.now);
    return json(201, { id: job.id, pipelineId: job.pipeline.id, projectId: project.id, name, logBytesPerTick, totalBytes });
  }

  /**
   * `{"project": 1, "name": "log", "log": "…", "status": "failed"}` → 201 `{"id": …}`: a finished job
   * (status `success` or `failed`, default success) whose log is exactly `log`.
   */
  function createJobWithLog(ctx: RequestContext): Reply {
    const b = ctx.body;
    const project = store.findProject(typeof b.project === 'string' ? b.project : '1');
    if (!project) return ERRORS.projectNotFound;
    const name = b.name ?? 'log';
    if (typeof name !== 'string' || name.length === 0 || name.length > 255) return invalidParam('name');
    if (typeof b.log !== 'string' || b.log.length === 0) return invalidParam('log');
    const status = b.status ?? 'success';
    if (status !== 'success' && status !== 'failed') return invalidValue('status');
    const job = bench.createWithLog({ project, name }, Buffer.from(b.log), status, ctx.now);
    return json(201, { id: job.id, pipelineId: job.pipeline.id, projectId: project.id, name, status: job.status });
  }

  /** `{"status": "success" | "failed"}` (default success) → 200; 404 for no bench job, 409 when it has ended. */
  function finishJob(ctx: RequestContext): Reply {
    const status = ctx.body.status ?? 'success';
    if (status !== 'success' && status !== 'failed') return invalidValue('status');
    const job = store.jobs.get(Number(ctx.params.id));
    if (!job) return ERRORS.notFound;
    switch (bench.finish(job, status satisfies BenchOutcome, ctx.now)) {
      case 'not-bench':
        return ERRORS.notFound;
      case 'not-running':
        return JOB_NOT_RUNNING;
      case 'ended':
        return json(200, { id: job.id, status: job.status });
    }
  }

  return {
    mount: '/__sim',
    routes: [
      { method: 'POST', path: '/tokens', handler: addToken },
      { method: 'DELETE', path: '/tokens/:token', handler: revokeToken },
      { method: 'POST', path: '/jobs', handler: createJob },
      { method: 'POST', path: '/jobs/log', handler: createJobWithLog },
      { method: 'POST', path: '/jobs/:id(int)/finish', handler: finishJob },
    ],
  };
}
