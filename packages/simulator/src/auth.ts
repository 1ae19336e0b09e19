/**
 * Who is calling and what they may do. Tokens come as `PRIVATE-TOKEN`, `Authorization: Bearer`,
 * `?private_token=` or `?access_token=` (GitLab's four ways) and are looked up in the store's token
 * table. The answers follow GitLab: a bad token is 401 everywhere; without a token a private project
 * is 401 and mutations are 401; a token that cannot see a private project gets 404 (its existence is
 * not revealed); one that may read but not act gets 403.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { ERRORS } from './http.js';
import type { Reply } from './http.js';
import type { Project, TokenGrant } from './model.js';
import type { Params } from './query.js';
import type { Store } from './store.js';

export type Caller =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'token'; readonly grant: TokenGrant }
  | { readonly kind: 'invalid' };

export const ANONYMOUS: Caller = Object.freeze({ kind: 'anonymous' });
const INVALID: Caller = Object.freeze({ kind: 'invalid' });

export function presentedToken(headers: IncomingHttpHeaders, query: Params | undefined): string | undefined {
  const header = headers['private-token'];
  if (typeof header === 'string' && header !== '') return header;
  const authorization = headers.authorization;
  if (authorization && /^bearer /i.test(authorization)) return authorization.slice(7).trim();
  if (query) {
    for (const name of ['private_token', 'access_token']) {
      const value = query[name];
      if (typeof value === 'string' && value !== '') return value;
    }
  }
  return undefined;
}

export function identify(store: Store, token: string | undefined): Caller {
  if (token === undefined) return ANONYMOUS;
  const grant = store.tokens.get(token);
  return grant ? { kind: 'token', grant } : INVALID;
}

/** `read`: see the project and its jobs; `act`: cancel, retry, erase, play. */
export type Right = 'read' | 'act';

function canRead(grant: TokenGrant, project: Project): boolean {
  return project.visibility !== 'private' || grant.admin || grant.access.has(project.id);
}

function canAct(grant: TokenGrant, project: Project): boolean {
  if (grant.admin) return true;
  const level = grant.access.get(project.id);
  return level === 'developer' || level === 'maintainer';
}

/** @returns null when allowed, else the error reply GitLab would send */
export function authorize(caller: Caller, project: Project, right: Right): Reply | null {
  if (caller.kind === 'invalid') return ERRORS.unauthorized;
  if (caller.kind === 'anonymous') {
    return right === 'read' && project.visibility === 'public' ? null : ERRORS.unauthorized;
  }
  if (!canRead(caller.grant, project)) return ERRORS.projectNotFound;
  if (right === 'act' && !canAct(caller.grant, project)) return ERRORS.forbidden;
  return null;
}
