/**
 * The one request listener. Every request goes through the same steps, whichever API it is for:
 * 1. the front end that owns the URL routes it and counts it in stats (control endpoints are not
 *    counted), synchronously, inside `Stats.meter` so the body bytes later sent add up under its route;
 * 2. the fault table draws for counted requests: a faulted request was still counted, since it reached
 *    the upstream, and it adds to `faulted`;
 * 3. the front end answers (auth, body, handler) and the reply is sent, or fault-inject.ts does what
 *    the fault says instead.
 * This is the only place faults are applied: no route knows about them.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { CredentialLog } from './credential-log.js';
import type { FaultInjector } from './fault-inject.js';
import type { FaultTable } from './faults.js';
import type { Reply } from './http.js';
import { send } from './send.js';
import type { Stats } from './stats.js';

/** Whose error pages a fault answers with. */
export type Upstream = 'gitlab' | 'bkci';

/** A request after its front end routed and counted it, before it is answered. */
export interface Routed {
  /** The key it was counted under in stats (`GET /api/v4/projects/:id/jobs`, `GET (unmatched)`); undefined for control endpoints. */
  readonly key: string | undefined;
  readonly upstream: Upstream;
  /** Authenticates, reads the body and runs the handler. Never rejects: a throw is logged and becomes the upstream's 500. */
  answer(): Promise<Reply>;
}

export interface FrontEnd {
  /** True for the URLs this front end answers; the pipeline asks the front ends in order. */
  owns(url: string): boolean;
  /** Matches the request and counts it in stats, synchronously. */
  route(req: IncomingMessage): Routed;
  /** The API routes it serves, as stats names them (none for control endpoints). */
  readonly routeKeys: readonly string[];
}

export interface PipelineDeps {
  readonly stats: Stats;
  readonly faults: FaultTable;
  readonly injector: FaultInjector;
  /** In order; the last one should own every URL. */
  readonly frontEnds: readonly FrontEnd[];
  /** Where the credentials of counted requests are recorded while a test has it on (`/__sim/credentials`). */
  readonly credentials?: CredentialLog;
}

export function createPipeline({ stats, faults, injector, frontEnds, credentials }: PipelineDeps): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const frontEnd = frontEnds.find((f) => f.owns(url)) ?? (frontEnds[frontEnds.length - 1] as FrontEnd);
    const head = req.method === 'HEAD';
    const routed = stats.meter(res, () => frontEnd.route(req));
    if (routed.key !== undefined) credentials?.record(routed.upstream, routed.key, req);
    const fault = routed.key === undefined ? undefined : faults.draw(routed.key);
    if (fault) {
      stats.countFault();
      injector.inject(fault, { req, res, routed, head });
      return;
    }
    routed
      .answer()
      .then((reply) => send(res, reply, head))
      .catch((error: unknown) => {
        // answer() never rejects, so this is a reply send() could not write: a bug, but not a crash.
        console.error('buildgate simulator: could not send the reply', req.method, req.url, error);
        res.destroy();
      });
  };
}
