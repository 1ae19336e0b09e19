/**
 * Who calls the bk-ci apigw and what they may do (bk-ci's openapi filters,
 * https://github.com/TencentBlueKing/bk-ci). The caller is, in order: the user of `?access_token=`
 * (AccessTokenFilter adds X-DEVOPS-UID from the token), the user of an `X-Bkapi-Authorization` header (what
 * bk-apigateway verifies before it forwards a JWT; we verify the header ourselves), or the `X-DEVOPS-UID`
 * header of a direct call. Filter refusals are plain-text 400s. Permissions are per project: VIEW for reads,
 * EXECUTE for start/stop/retry.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { text } from '../http.js';
import type { Reply } from '../http.js';
import type { Params } from '../query.js';

export type BkPermission = 'VIEW' | 'EXECUTE';

export interface BkUserSpec {
  /** Every permission on every project. */
  readonly admin: boolean;
  /** Permissions by project id. */
  readonly projects: Readonly<Record<string, readonly BkPermission[]>>;
}

/** The simulator's bk-ci users; any other `X-DEVOPS-UID` is a user without permissions. */
export const BKCI_USERS = {
  admin: { admin: true, projects: {} },
  alice: { admin: false, projects: { demo: ['VIEW', 'EXECUTE'] } },
  viewer: { admin: false, projects: { demo: ['VIEW'] } },
  mallory: { admin: false, projects: {} },
} as const satisfies Readonly<Record<string, BkUserSpec>>;

/** access_token → user, for `?access_token=` and `X-Bkapi-Authorization: {"access_token": …}`. */
export const BKCI_TOKENS: Readonly<Record<string, keyof typeof BKCI_USERS>> = {
  'bk-admin-token': 'admin',
  'bk-alice-token': 'alice',
  'bk-viewer-token': 'viewer',
};

/** BlueKing apps allowed to assert `bk_username` (bk_app_code → bk_app_secret). */
export const BKCI_APPS: Readonly<Record<string, string>> = {
  buildgate: 'buildgate-app-secret',
};

export type Identity = { readonly user: string } | { readonly refused: Reply };

const TOKEN_INVALID = Object.freeze(text(400, 'Verification failed : token invalid'));
const APP_INVALID = Object.freeze(text(400, 'Devops OpenAPI Auth fail：app auth fail.'));
const JWT_EMPTY = Object.freeze(text(400, 'Request bkapi jwt is empty.'));
/**
 * No identity at all. Our choice: bk-ci's default install defaults X-DEVOPS-UID to `admin` and its
 * token filter says `Request accessToken is empty.`; a stand-in that let anonymous calls act as admin
 * would hide a gateway that forgets to forward the caller, so we refuse with this text instead.
 */
const USER_EMPTY = Object.freeze(text(400, 'Request user is empty.'));

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first.trim() === '' ? undefined : first.trim();
}

function fromToken(token: string): Identity {
  const user = Object.hasOwn(BKCI_TOKENS, token) ? BKCI_TOKENS[token] : undefined;
  return user ? { user } : { refused: TOKEN_INVALID };
}

/** bk-apigateway's credential header: an access token, or an app plus the user it acts for. */
function fromBkapi(raw: string): Identity | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { refused: JWT_EMPTY };
  }
  if (typeof parsed !== 'object' || parsed === null) return { refused: JWT_EMPTY };
  const fields = parsed as Record<string, unknown>;
  if (typeof fields.access_token === 'string') return fromToken(fields.access_token);
  const code = fields.bk_app_code;
  const secret = fields.bk_app_secret;
  if (typeof code !== 'string' || typeof secret !== 'string') return { refused: JWT_EMPTY };
  if (!Object.hasOwn(BKCI_APPS, code) || BKCI_APPS[code] !== secret) return { refused: APP_INVALID };
  // A verified app without bk_username acts for nobody; the direct header may still name the user.
  return typeof fields.bk_username === 'string' && fields.bk_username !== '' ? { user: fields.bk_username } : undefined;
}

export function identify(headers: IncomingHttpHeaders, query: Params): Identity {
  const token = query.access_token;
  if (typeof token === 'string') return fromToken(token);
  const bkapi = header(headers, 'x-bkapi-authorization');
  if (bkapi !== undefined) {
    const identity = fromBkapi(bkapi);
    if (identity) return identity;
  }
  const uid = header(headers, 'x-devops-uid');
  return uid === undefined ? { refused: USER_EMPTY } : { user: uid };
}

export function can(user: string, projectId: string, permission: BkPermission): boolean {
  if (!Object.hasOwn(BKCI_USERS, user)) return false;
  const spec: BkUserSpec = BKCI_USERS[user as keyof typeof BKCI_USERS];
  return spec.admin || (spec.projects[projectId]?.includes(permission) ?? false);
}
