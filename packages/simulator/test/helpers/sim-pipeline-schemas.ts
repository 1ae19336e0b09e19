/**
 * GitLab's schemas for the pipelines list and one pipeline (test/fixtures/gitlab-schemas/v4), loaded into
 * ajv with their relative ids. Two stand-ins, both from the fixtures README: GitLab's own type name
 * `date` is read as an ISO 8601 string, and `status/ci_detailed_status.json` (not vendored) is the
 * object the README describes, with no additional properties.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import { SCHEMA_DIR } from './sim-schemas.js';

const ISO_MS_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

const CI_DETAILED_STATUS = {
  type: 'object',
  required: ['icon', 'text', 'label', 'group', 'tooltip', 'has_details', 'details_path', 'favicon'],
  properties: {
    icon: { type: 'string' },
    text: { type: 'string' },
    label: { type: 'string' },
    group: { type: 'string' },
    tooltip: { type: 'string' },
    has_details: { type: 'boolean' },
    details_path: { type: ['string', 'null'] },
    favicon: { type: 'string' },
    illustration: {},
    action: {
      type: 'object',
      required: ['icon', 'title', 'path', 'method'],
      properties: { icon: { enum: ['retry', 'play', 'cancel'] }, title: { type: 'string' }, path: { type: 'string' }, method: { type: 'string' } },
    },
  },
  additionalProperties: false,
};

/** GitLab's `"type": ["date", …]` as JSON Schema: a string in ISO 8601 with ms and Z. */
function withDates(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withDates);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'type' && Array.isArray(value) && value.includes('date')) {
      out.anyOf = value.map((t) => (t === 'date' ? { type: 'string', pattern: ISO_MS_Z.source } : { type: t }));
    } else out[key] = withDates(value);
  }
  return out;
}

let validators: { list: ValidateFunction; detail: ValidateFunction; basic: ValidateFunction } | undefined;

function load() {
  const ajv = new Ajv({ strict: false, allErrors: true });
  const read = (id: string) => withDates(JSON.parse(readFileSync(path.join(SCHEMA_DIR, id), 'utf8'))) as object;
  // Ids where GitLab keeps the files, so `../../../status/…` resolves as in GitLab's specs.
  const base = 'https://gitlab.invalid/spec/fixtures/api/schemas/';
  for (const id of ['pipelines.json', 'pipeline/basic.json', 'pipeline/detail.json', 'user/basic.json']) ajv.addSchema(read(id), `${base}public_api/v4/${id}`);
  ajv.addSchema(CI_DETAILED_STATUS, `${base}status/ci_detailed_status.json`);
  const get = (id: string) => ajv.getSchema(`${base}public_api/v4/${id}`)!;
  return { list: get('pipelines.json'), detail: get('pipeline/detail.json'), basic: get('pipeline/basic.json') };
}

function errorsOf(validate: ValidateFunction, body: unknown): string[] {
  return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

export function pipelineListSchemaErrors(body: unknown): string[] {
  validators ??= load();
  return errorsOf(validators.list, body);
}

export function pipelineDetailSchemaErrors(body: unknown): string[] {
  validators ??= load();
  return errorsOf(validators.detail, body);
}
