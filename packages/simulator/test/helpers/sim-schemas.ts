/**
 * GitLab's own JSON schemas for v4 job responses (vendored unchanged in test/fixtures/gitlab-schemas from
 * shared/anchors, so the suite needs nothing outside the repository), loaded into ajv
 * with their relative ids so `$ref: "user/basic.json"` resolves as in GitLab's request specs.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';

const packageRoot = fileURLToPath(new URL('../..', import.meta.url));
export const SCHEMA_DIR = path.resolve(packageRoot, 'test/fixtures/gitlab-schemas/v4');

const ISO_MS_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const PIPELINE_ONLY = new Set(['pipelines.json', 'pipeline/detail.json']);

function schemaFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return schemaFiles(full, `${prefix}${name}/`);
    return name.endsWith('.json') ? [`${prefix}${name}`] : [];
  });
}

function load(): ValidateFunction {
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat('date-time', ISO_MS_Z);
  // The pipelines schemas use GitLab's own `date` type, which ajv refuses: they are loaded, translated,
  // by sim-pipeline-schemas.ts, and job.json does not refer to them.
  for (const id of schemaFiles(SCHEMA_DIR).filter((file) => !PIPELINE_ONLY.has(file))) {
    ajv.addSchema(JSON.parse(readFileSync(path.join(SCHEMA_DIR, id), 'utf8')) as object, id);
  }
  const validate = ajv.getSchema('job.json');
  if (!validate) throw new Error(`job.json not found in ${SCHEMA_DIR}`);
  return validate;
}

let cached: ValidateFunction | undefined;

/**
 * Problems of one job against job.json. GitLab sends `failure_reason` for failed jobs only and the
 * schema (additionalProperties: false) does not list it: exactly that one extra is allowed, and only there.
 */
export function jobSchemaErrors(job: Record<string, unknown>): string[] {
  cached ??= load();
  const problems: string[] = [];
  const { failure_reason: failureReason, ...rest } = job;
  if (job.status === 'failed' && typeof failureReason !== 'string') problems.push(`job ${String(job.id)}: failed without failure_reason`);
  if (job.status !== 'failed' && failureReason !== undefined) problems.push(`job ${String(job.id)}: failure_reason on a ${String(job.status)} job`);
  if (!cached(rest)) {
    for (const e of cached.errors ?? []) problems.push(`job ${String(job.id)}: ${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
  }
  for (const key of ['created_at', 'started_at', 'finished_at', 'erased_at', 'artifacts_expire_at']) {
    const value = job[key];
    if (value !== null && value !== undefined && !ISO_MS_Z.test(String(value))) problems.push(`job ${String(job.id)}: ${key} ${String(value)} is not ISO 8601 with ms and Z`);
  }
  return problems;
}
