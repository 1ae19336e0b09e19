/** Query and body parameters as GitLab's Grape API coerces them, each refusal the 400 GitLab sends. */
import { invalidParam, invalidValue } from '../../http.js';
import type { Reply } from '../../http.js';
import { CONFLICT } from '../../query.js';
import type { ParamValue, Params, QueryValue } from '../../query.js';
import { isJobStatus } from '../../status.js';

export const isReply = (value: unknown): value is Reply =>
  typeof value === 'object' && value !== null && typeof (value as Partial<Reply>).status === 'number' && 'body' in value;

/** GitLab's `optional_scope` coercion: a string, an array, or a hash's values; anything else is invalid. */
export function coerceScope(value: ParamValue | undefined): ReadonlySet<string> | undefined | Reply {
  if (value === undefined) return undefined;
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? value : value === CONFLICT ? ['unknown'] : Object.values(value);
  if (!list.every(isJobStatus)) return invalidValue('scope');
  return new Set(list);
}

const TRUE = new Set(['true', '1', 't', 'yes', 'y']);
const FALSE = new Set(['false', '0', 'f', 'no', 'n']);

export function booleanParam(params: Params, name: string, fallback: boolean): boolean | Reply {
  const value = params[name];
  if (value === undefined) return fallback;
  if (typeof value === 'string' && TRUE.has(value.toLowerCase())) return true;
  if (typeof value === 'string' && FALSE.has(value.toLowerCase())) return false;
  return invalidParam(name);
}

export function withoutConflicts(params: Params): Record<string, QueryValue> {
  const out: Record<string, QueryValue> = {};
  for (const [k, v] of Object.entries(params)) if (v !== CONFLICT) out[k] = v;
  return out;
}

/** Plain string parameters; an array or hash where a string is expected is Grape's "is invalid". */
export function stringParams(params: Params, names: readonly string[]): Record<string, string | undefined> | Reply {
  const out: Record<string, string | undefined> = {};
  for (const name of names) {
    const value = params[name];
    if (value !== undefined && typeof value !== 'string') return invalidParam(name);
    out[name] = value;
  }
  return out;
}
