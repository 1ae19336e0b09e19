/**
 * bk-ci's answers: every JSON reply is `Result<T>` = `{status, message, data}` (status 0 on success, HTTP
 * 200), and an error is the HTTP status of its `ErrorCodeException` with `status` = the numeric error code
 * and `data: null` (bk-ci's `ErrorCodeExceptionMapper`). Filter-level refusals (path, auth) are plain text
 * 400s.
 */
import { json, text } from '../http.js';
import type { Reply } from '../http.js';

/**
 * Error codes. The process codes are bk-ci's current `ProcessMessageCode` values (process
 * `ProcessMessageCode.kt` in https://github.com/TencentBlueKing/bk-ci); the permission and parameter codes
 * are our picks, marked so: bk-ci's own numbers for those vary by version.
 */
export const BK_CODES = {
  /** ERROR_DUPLICATE_BUILD_RETRY_ACT: the build is still running. */
  DUPLICATE_BUILD_RETRY: 2101129,
  /** ERROR_RETRY_STAGE_NOT_FAILED; also used (our choice) for a job or step that did not fail. */
  RETRY_NOT_FAILED: 2101114,
  /** ERROR_NO_BUILD_EXISTS_BY_ID, HTTP 404. */
  BUILD_NOT_FOUND: 2101163,
  /** ERROR_NO_PIPELINE_EXISTS_BY_ID, HTTP 404. */
  PIPELINE_NOT_FOUND: 2101164,
  /** PIPELINE_BUILD_HAS_ENDED_CANNOT_BE_CANCELED. */
  BUILD_ENDED: 2101179,
  /** Our pick: the user lacks the VIEW or EXECUTE permission (HTTP 403). */
  NO_PERMISSION: 2119042,
  /** Our pick: a required parameter is missing. */
  PARAM_MISSING: 2100001,
  /** Our pick: a parameter has an unusable value (a number that is not one, an unknown taskId). */
  PARAM_INVALID: 2100002,
} as const;

/** An error as the lifecycle reports it; routes turn it into a reply. */
export interface BkError {
  readonly http: number;
  readonly code: number;
  readonly message: string;
}

export const isBkError = (value: unknown): value is BkError =>
  typeof value === 'object' && value !== null && typeof (value as Partial<BkError>).code === 'number' && 'http' in value;

export function ok(data: unknown): Reply {
  return json(200, { status: 0, message: null, data });
}

export function fail(error: BkError): Reply {
  return json(error.http, { status: error.code, message: error.message, data: null });
}

export const buildNotFound = (buildId: string): BkError => ({ http: 404, code: BK_CODES.BUILD_NOT_FOUND, message: `流水线构建[${buildId}]不存在` });

export const pipelineNotFound = (pipelineId: string): BkError => ({ http: 404, code: BK_CODES.PIPELINE_NOT_FOUND, message: `流水线[${pipelineId}]不存在` });

export const paramMissing = (name: string): BkError => ({ http: 400, code: BK_CODES.PARAM_MISSING, message: `参数[${name}]不能为空` });

export const paramInvalid = (name: string, value: string): BkError => ({
  http: 400,
  code: BK_CODES.PARAM_INVALID,
  message: `参数[${name}]的值[${value}]不合法`,
});

/** The filter's answer to a path outside `/api/apigw/`, `/api/apigw-user/`, `/api/apigw-app/` (ApiPathFilter). */
export const illegalPath = (path: string): Reply => text(400, `Devops OpenAPI Auth fail: path(${path}) illegal!`);

/** A route the apigw does not have: Jersey's 404, wrapped (our choice; bk-ci's body here is not documented). */
export const routeNotFound = (): Reply => json(404, { status: 404, message: 'HTTP 404 Not Found', data: null });
