/** What every route handler receives, and the shape of a route module (rows of data, not code paths). */
import type { IncomingHttpHeaders } from 'node:http';
import type { Caller } from '../auth.js';
import type { Reply } from '../http.js';
import type { Params } from '../query.js';

export interface RequestContext {
  readonly method: string;
  /** The raw request path (still percent-encoded), as Link headers repeat it. */
  readonly path: string;
  /** Route parameters, decoded. */
  readonly params: Readonly<Record<string, string>>;
  /** Query parameters, Rack-style. */
  readonly query: Params;
  /** Body parameters of a POST (JSON or form), merged over nothing else; empty for GET. */
  readonly body: Params;
  /** The POST body as the JSON value sent (arrays and nested objects intact); undefined for a form or no body. */
  readonly json: unknown;
  /** The request's headers (e.g. `Range` on job logs). */
  readonly headers: IncomingHttpHeaders;
  readonly caller: Caller;
  /** One clock reading per request, so a reply's durations agree with each other. */
  readonly now: number;
}

export type Handler = (ctx: RequestContext) => Reply;

export interface RouteRow {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** Below the module's mount point; `(int)` marks digit-only parameters. */
  readonly path: string;
  readonly handler: Handler;
}

export interface RouteModule {
  /** e.g. `/api/v4`. */
  readonly mount: string;
  readonly routes: readonly RouteRow[];
}
