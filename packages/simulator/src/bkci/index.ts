/**
 * The simulated bk-ci open API gateway, in the same process as the GitLab simulator: its own store,
 * generator, lifecycle and routes, sharing only the clock (the GitLab clock calls `tick`) and the stats
 * counter. As a front end of the pipeline (pipeline.ts) it owns every `/ms/openapi/…` request: `route`
 * counts it, `answer` runs bk-ci's ApiPathFilter first (only the `apigw`, `apigw-user`, `apigw-app`
 * prefixes pass), then the caller (auth.ts), then the route.
 */
import type { IncomingMessage } from 'node:http';
import type { Reply } from '../http.js';
import type { FrontEnd, Routed } from '../pipeline.js';
import { Prng, hash32 } from '../prng.js';
import { parseQuery } from '../query.js';
import type { Params } from '../query.js';
import { Router } from '../router.js';
import { readBody } from '../server.js';
import { UNMATCHED } from '../stats.js';
import type { Stats } from '../stats.js';
import { identify } from './auth.js';
import { BkClock } from './clock.js';
import { fail, illegalPath, paramInvalid, routeNotFound } from './errors.js';
import { generateBkci } from './generator.js';
import type { BkGenContext } from './generator.js';
import { BkLifecycle } from './lifecycle.js';
import { bkciRoutes } from './routes.js';
import type { BkHandler } from './routes.js';
import { BkciStore } from './store.js';

export { BKCI_APPS, BKCI_TOKENS, BKCI_USERS } from './auth.js';
export type { BkPermission, BkUserSpec } from './auth.js';
export { BK_CODES } from './errors.js';
export { AFTER_PAGE_LINES, HISTORY_MAX_PAGE_SIZE, INIT_PAGE_LINES } from './routes.js';
export { STORIES } from './generator.js';
export type { BkciStore } from './store.js';

/** Where bk-ci's web gateway publishes the openapi service. */
export const BKCI_MOUNT = '/ms/openapi';
/** The three apigw types of the JAX-RS path `/{apigwType:apigw-user|apigw-app|apigw}/v3/…`. */
export const APIGW_TYPES = ['apigw', 'apigw-user', 'apigw-app'] as const;

const NO_PARAMS: Params = Object.freeze(Object.create(null) as Params);
const INTERNAL = Object.freeze(fail({ http: 500, code: 500, message: 'Internal Server Error' }));

/** The front end for `/ms/openapi/…` (pipeline.ts), with its store and clock. */
export interface Bkci extends FrontEnd {
  readonly store: BkciStore;
  /** One clock tick (called by the GitLab clock's tick). */
  tick(now: number): void;
}

export interface BkciOptions {
  readonly seed: number;
  readonly stats: Stats;
  readonly now: number;
}

export function createBkci({ seed, stats, now }: BkciOptions): Bkci {
  const store = new BkciStore(seed);
  const lifecycle = new BkLifecycle(store, seed);
  generateBkci(store, lifecycle, seed, now);
  // Live builds draw from their own stream, after the history's.
  const ctx: BkGenContext = { store, lifecycle, seed, rng: new Prng(hash32(seed, 0xb4c4)) };
  const clock = new BkClock(ctx);
  clock.topUp(now);

  const router = new Router<BkHandler>();
  for (const type of APIGW_TYPES) {
    for (const row of bkciRoutes({ ctx, clock })) router.add(row.method, `${BKCI_MOUNT}/api/${type}/v3${row.path}`, row.handler);
  }

  function route(req: IncomingMessage): Routed {
    const url = req.url ?? '/';
    const mark = url.indexOf('?');
    const path = mark === -1 ? url : url.slice(0, mark);
    const query = mark === -1 ? NO_PARAMS : parseQuery(url.slice(mark + 1));
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const match = router.match(method, path);
    const key = match ? match.route.key : `${req.method} ${UNMATCHED}`;
    stats.count(key);
    async function answer(): Promise<Reply> {
      if (!/^\/ms\/openapi\/api\/apigw(-user|-app)?\//.test(path)) return illegalPath(path);
      const identity = identify(req.headers, query);
      if ('refused' in identity) return identity.refused;
      if (!match) return routeNotFound();
      let body = NO_PARAMS;
      if (method === 'POST') {
        const read = await readBody(req);
        if (read === undefined) return fail(paramInvalid('body', 'not a JSON object'));
        body = read.params;
      }
      return match.route.handler({ params: match.params, query, body, user: identity.user, now: Date.now() });
    }
    return {
      key,
      upstream: 'bkci',
      answer: () =>
        answer().catch((error: unknown) => {
          console.error('buildgate simulator: bk-ci request failed', req.method, req.url, error);
          return INTERNAL;
        }),
    };
  }

  return {
    store,
    owns: (url) => url.startsWith(`${BKCI_MOUNT}/`),
    route,
    routeKeys: router.keys(),
    tick: (at) => clock.tick(at),
  };
}
