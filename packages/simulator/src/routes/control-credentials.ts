/**
 * `GET /__sim/credentials`: the credentials each recent API request arrived with, by upstream and
 * route (credential-log.ts). `POST /__sim/credentials/start` forgets them and records from then on;
 * `POST /__sim/credentials/stop` stops recording.
 */
import type { CredentialLog } from '../credential-log.js';
import { json } from '../http.js';
import type { RouteModule } from './context.js';

export function controlCredentialRoutes(log: CredentialLog): RouteModule {
  const snapshot = () => json(200, { recording: log.recording, requests: log.snapshot() });
  return {
    mount: '/__sim',
    routes: [
      { method: 'GET', path: '/credentials', handler: snapshot },
      {
        method: 'POST',
        path: '/credentials/start',
        handler: () => {
          log.start();
          return snapshot();
        },
      },
      {
        method: 'POST',
        path: '/credentials/stop',
        handler: () => {
          log.stop();
          return snapshot();
        },
      },
    ],
  };
}
