/**
 * `GET /__sim/credentials`: the credentials each recent API request arrived with, by upstream and
 * route (credential-log.ts); `POST /__sim/credentials/reset` forgets them.
 */
import type { CredentialLog } from '../credential-log.js';
import { json } from '../http.js';
import type { RouteModule } from './context.js';

export function controlCredentialRoutes(log: CredentialLog): RouteModule {
  return {
    mount: '/__sim',
    routes: [
      { method: 'GET', path: '/credentials', handler: () => json(200, { requests: log.snapshot() }) },
      {
        method: 'POST',
        path: '/credentials/reset',
        handler: () => {
          log.reset();
          return json(200, { requests: [] });
        },
      },
    ],
  };
}
