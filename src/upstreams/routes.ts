/**
 * What an upstream request looks like to metrics: the request event `http.ts` emits, and the route
 * template that keeps its label set small. Here, in the upstreams layer, so that `http.ts` need not
 * import the metrics that observe it.
 */

export interface UpstreamRequestEvent {
  upstream: string;
  method: string;
  /** The path's template (`routeOf`), so the label set stays small. */
  route: string;
  /** HTTP status, or `error` when there was no answer. */
  status: string;
  seconds: number;
}

/** The route of any path that is not one of the upstream APIs' shapes. */
export const OTHER_ROUTE = 'other';

/** Collections whose next segment is an entity: a number, a SHA, a bk-ci id or a (client-chosen) project path. */
const ID_AFTER = new Set(['projects', 'pipelines', 'builds', 'jobs', 'commits', 'commit', 'users']);
/** What may follow `builds` where an id would: bk-ci's `…/builds/history`, v3's `…/builds/commit/:sha`. */
const BUILDS_SUBRESOURCES = new Set(['history', 'commit']);
/** Every other literal segment of a path the adapters call. */
const LITERALS = new Set([...ID_AFTER, 'repository', 'bridges', 'trace', 'retry', 'cancel', 'erase', 'play', 'stop', 'status', 'detail', 'history', 'logs', 'after', 'artifacts', 'download']);
const MAX_SEGMENTS = 12;

/**
 * A path's template: the segment after a collection name becomes `:id`, known literal segments stay,
 * and a path with anything else is `other`, so the `route` label can only take a few dozen values
 * whatever ids or names clients send.
 */
export function routeOf(path: string): string {
  const end = path.indexOf('?');
  const segments = (end === -1 ? path : path.slice(0, end)).split('/');
  if (segments[0] !== '' || segments.length > MAX_SEGMENTS + 1) return OTHER_ROUTE;
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    const previous = segments[i - 1]!;
    if (ID_AFTER.has(previous) && !(previous === 'builds' && BUILDS_SUBRESOURCES.has(segment))) segments[i] = ':id';
    else if (!LITERALS.has(segment)) return OTHER_ROUTE;
  }
  return segments.join('/');
}
