/**
 * A client's project id or path, as the one key the loaders, the cache and the trace hub use: the
 * spelling is normalised and checked before any request, then resolved to the canonical id (see
 * upstreams/project-identity.ts). A project read on the way primes the request's project loader.
 */
import type { GatewayContext } from '../context.js';
import { canonicalProjectId, normaliseProjectSpelling } from '../upstreams/project-identity.js';
import type { Upstream } from '../upstreams/types.js';
import { checkProjectId } from './helpers.js';

/** The normalised, checked spelling (no request). */
export function checkedProjectSpelling(adapter: Upstream, input: string): string {
  return checkProjectId(normaliseProjectSpelling(adapter.kind, input));
}

/** The canonical id of a checked spelling, with this request's credential for `upstream`. */
export function canonicalProject(context: Pick<GatewayContext, 'upstream' | 'loaders'>, upstream: string, spelling: string): Promise<string> {
  const { adapter, call } = context.upstream(upstream);
  return canonicalProjectId(adapter, call, spelling, (project) => context.loaders.project.prime({ upstream, projectId: project.projectId }, project));
}
