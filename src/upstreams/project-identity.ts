/**
 * One key per project, however a client spelled it. GitLab takes a project as its numeric id or as
 * its path (URL-encoded or not, matched case-insensitively), so `1`, `001`, `foo/bar`, `FOO/Bar` and
 * `foo%2Fbar` are one project; loaders, the finished-build cache and the trace pollers must see one
 * key for it, or a dozen spellings start a dozen pollers and an erase through one leaves the log
 * cached under another. The canonical key is GitLab's numeric id; a bk-ci project id is a code that
 * bk-ci matches exactly, so only its URL-encoding is undone.
 *
 * Resolving a path costs one project read, cached per upstream in a small LRU with a TTL. A path →
 * id mapping is no secret, but a private project's existence is: a mapping is cached under the digest
 * of the credential whose own read found it, and served to that credential only.
 */
import { LRUCache } from 'lru-cache';
import { badUserInput } from '../errors.js';
import { credentialDigest } from './credential-digest.js';
import type { ProjectModel, UpstreamKind } from '../model.js';
import { descriptorOf } from './kinds/index.js';
import type { CallContext, Upstream } from './types.js';

/** Mappings kept per upstream. */
export const IDENTITY_CACHE_MAX = 10_000;
/** ms a path → id mapping is trusted: bounds how long a renamed or transferred project resolves to its old id. */
export const IDENTITY_CACHE_TTL_MS = 5 * 60_000;

/** How each kind names its projects: its descriptor's `projectIds`. */
const RULES = (kind: UpstreamKind) => descriptorOf(kind).projectIds;

/** Per adapter (one per configured upstream), so two gateways in one process share nothing. */
const caches = new WeakMap<Upstream, LRUCache<string, Promise<string>>>();

function cacheOf(adapter: Upstream): LRUCache<string, Promise<string>> {
  let cache = caches.get(adapter);
  if (!cache) caches.set(adapter, (cache = new LRUCache({ max: IDENTITY_CACHE_MAX, ttl: IDENTITY_CACHE_TTL_MS })));
  return cache;
}

/**
 * The spelling with what means nothing taken out: URL-encoding undone, and for GitLab a numeric id's
 * leading zeros. No request; the result still needs the caller's syntax check.
 */
export function normaliseProjectSpelling(kind: UpstreamKind, input: string): string {
  let id = input;
  if (id.includes('%')) {
    try {
      id = decodeURIComponent(id);
    } catch {
      throw badUserInput(`"${input.slice(0, 80)}" is not a project id or path`, { argument: 'id' });
    }
  }
  if (RULES(kind).numericIds && /^\d+$/.test(id)) {
    id = id.replace(/^0+(?=\d)/, '');
    if (id === '0') throw badUserInput(`"${input.slice(0, 80)}" is not a project id or path`, { argument: 'id' });
  }
  return id;
}

/** Whether `id` (normalised) is already the canonical key: no request needed. */
export function isCanonicalProjectId(kind: UpstreamKind, id: string): boolean {
  return !RULES(kind).resolvesPaths || /^\d+$/.test(id);
}

/**
 * The canonical id of a normalised, checked project spelling: as is when it already is one, else from
 * the cache (this credential's earlier answer) or one project read with the caller's own credential,
 * whose refusal (NOT_FOUND, UNAUTHENTICATED) is the caller's answer. `onProject` gets the project when
 * it was read, so the request need not read it again.
 */
export function canonicalProjectId(
  adapter: Upstream,
  call: CallContext,
  id: string,
  onProject?: (project: ProjectModel) => void,
): Promise<string> {
  if (isCanonicalProjectId(adapter.kind, id)) return Promise.resolve(id);
  const cache = cacheOf(adapter);
  const key = `${credentialDigest(call.credential)}\0${id.toLowerCase()}`;
  const known = cache.get(key);
  if (known) return known;
  const resolved = adapter.getProject(call, id).then((project) => {
    const canonical = project.canonicalId ?? id;
    onProject?.({ ...project, projectId: canonical });
    return canonical;
  });
  cache.set(key, resolved);
  // A refusal or a fault is not remembered: the next read asks again.
  resolved.catch(() => {
    if (cache.get(key) === resolved) cache.delete(key);
  });
  return resolved;
}
