/**
 * What each fault mode does to a request the fault table (faults.ts) picked, on the socket itself:
 * the pipeline (pipeline.ts) hands the request over instead of answering it. Modes that stand where
 * a proxy or Rack::Attack would (status, rate-limit, malformed, reset, hang) answer without running
 * the handler, so a faulted mutation changes nothing; the modes that bend the real answer (latency,
 * truncate, stall) run it first. Responses it holds open (stall, hang) and replies it delays
 * (latency) are tracked, so `close()` ends them and neither tests nor CI wait on a socket.
 *
 * Error bodies: GitLab routes get `{"message":"502 Bad Gateway"}` (the status and its reason phrase)
 * for every status. bk-ci routes get, for 500, the app's own `Result` (`{"status":500,"message":
 * "Internal Server Error","data":null}`, as bkci/index.ts answers a handler's throw), and for 502, 503
 * and 504 the HTML page of the OpenResty gateway bk-ci runs behind, since those come from the gateway,
 * not the app. The 429 is GitLab's (Rack::Attack) for both.
 */
import { STATUS_CODES } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultRule, FaultStatus } from './faults.js';
import { FAULT_STATUSES } from './faults.js';
import { json } from './http.js';
import type { Reply } from './http.js';
import type { Routed, Upstream } from './pipeline.js';
import { bodyLength, firstBytes, send } from './send.js';
import { meterBody } from './stats.js';

/** A faulted request, as the pipeline hands it over. */
export interface Faulted {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly routed: Routed;
  /** A HEAD: replies carry no body. */
  readonly head: boolean;
}

/** GitLab's throttle behind the 429 (Rack::Attack's `throttle_authenticated_api`, 600 a minute as the jobs list allows). */
export const RATE_LIMIT_NAME = 'throttle_authenticated_api';
export const RATE_LIMIT_LIMIT = 600;

const reason = (status: number): string => STATUS_CODES[status] ?? 'Error';

function gatewayPage(status: number): Reply {
  const title = `${status} ${reason(status)}`;
  const body = `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>openresty</center>\r\n</body>\r\n</html>\r\n`;
  return { status, headers: { 'content-type': 'text/html' }, body };
}

/** The reply of a `status` fault, by upstream and status, made once. */
const STATUS_REPLIES: { readonly [U in Upstream]: ReadonlyMap<FaultStatus, Reply> } = {
  gitlab: new Map(FAULT_STATUSES.map((status) => [status, Object.freeze(json(status, { message: `${status} ${reason(status)}` }))])),
  bkci: new Map(
    FAULT_STATUSES.map((status) => [
      status,
      Object.freeze(status === 500 ? json(500, { status: 500, message: reason(500), data: null }) : gatewayPage(status)),
    ]),
  ),
};

/** A 200 that says JSON and is a proxy's HTML error page, as a misconfigured load balancer sends. */
const MALFORMED: Reply = Object.freeze({
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: '<html><head><title>Service Unavailable</title></head><body><h1>Service Unavailable</h1><p>The upstream is being updated. Please retry.</p></body></html>\n',
});

/**
 * Rack::Attack's throttled response as GitLab configures it
 * (https://docs.gitlab.com/administration/settings/user_and_ip_rate_limits/): `Retry later\n`, `Retry-After`
 * in seconds, and the RateLimit-* headers, the reset as unix seconds and as an HTTP date.
 */
export function rateLimited(retryAfter: number, now: number): Reply {
  const reset = Math.ceil(now / 1000) + retryAfter;
  return {
    status: 429,
    headers: {
      'content-type': 'text/plain',
      'Retry-After': String(retryAfter),
      'RateLimit-Name': RATE_LIMIT_NAME,
      'RateLimit-Limit': String(RATE_LIMIT_LIMIT),
      'RateLimit-Observed': String(RATE_LIMIT_LIMIT + 1),
      'RateLimit-Remaining': '0',
      'RateLimit-Reset': String(reset),
      'RateLimit-ResetTime': new Date(reset * 1000).toUTCString(),
    },
    body: 'Retry later\n',
  };
}

/** The real reply with the first half of its body: complete by its Content-Length, yet cut. */
function truncated(reply: Reply): Reply {
  return { status: reply.status, headers: reply.headers, body: firstBytes(reply.body, Math.floor(bodyLength(reply.body) / 2)) };
}

export class FaultInjector {
  /** Delayed replies (latency), cleared when their response closes or the simulator does. */
  readonly #timers = new Set<NodeJS.Timeout>();
  /** Responses left open on purpose (stall, hang). */
  readonly #held = new Set<ServerResponse>();
  #closed = false;

  inject(fault: FaultRule, target: Faulted): void {
    const { req, res, routed, head } = target;
    switch (fault.mode) {
      case 'latency':
        this.#afterAnswer(target, (reply) => this.#later(res, fault.ms, () => send(res, reply, head)));
        return;
      case 'status':
        send(res, STATUS_REPLIES[routed.upstream].get(fault.status) as Reply, head);
        return;
      case 'reset':
        this.#reset(req);
        return;
      case 'rate-limit':
        send(res, rateLimited(fault.retryAfter, Date.now()), head);
        return;
      case 'truncate':
        this.#afterAnswer(target, (reply) => send(res, truncated(reply), head));
        return;
      case 'malformed':
        send(res, MALFORMED, head);
        return;
      case 'stall':
        this.#afterAnswer(target, (reply) => this.#stall(target, reply, fault.afterBytes));
        return;
      case 'hang':
        this.#hold(res);
        return;
    }
  }

  /** Ends every held response and drops every delayed reply. Idempotent; later faults end at once. */
  close(): void {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const res of this.#held) res.destroy();
    this.#held.clear();
  }

  #afterAnswer({ req, res, routed }: Faulted, then: (reply: Reply) => void): void {
    routed
      .answer()
      .then((reply) => {
        if (this.#closed) res.destroy();
        else if (!res.destroyed) then(reply);
      })
      .catch((error: unknown) => {
        console.error('buildgate simulator: could not send the faulted reply', req.method, req.url, error);
        res.destroy();
      });
  }

  #later(res: ServerResponse, ms: number, then: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (!res.destroyed) then();
    }, ms);
    this.#timers.add(timer);
    // A client that gives up frees its timer now rather than after `ms`.
    res.once('close', () => {
      clearTimeout(timer);
      this.#timers.delete(timer);
    });
  }

  #hold(res: ServerResponse): void {
    if (this.#closed) {
      res.destroy();
      return;
    }
    this.#held.add(res);
    res.once('close', () => this.#held.delete(res));
  }

  /** A TCP RST (ECONNRESET on the client) rather than a FIN, which a client could take for a normal end of a keep-alive connection. */
  #reset(req: IncomingMessage): void {
    try {
      req.socket.resetAndDestroy();
    } catch {
      req.socket.destroy();
    }
  }

  /**
   * The real status and headers, Content-Length of the whole body, then `afterBytes` of it (one byte
   * short of the whole at most, and a Content-Length of at least 1), so the body never completes.
   * A HEAD has no body to stall in, and its headers alone would complete it: it hangs instead.
   */
  #stall({ res, head }: Faulted, reply: Reply, afterBytes: number): void {
    if (!head) {
      const declared = Math.max(bodyLength(reply.body), 1);
      const sent = Math.min(afterBytes, declared - 1);
      res.writeHead(reply.status, { ...reply.headers, 'content-length': declared });
      if (sent === 0) res.flushHeaders();
      const part = firstBytes(reply.body, sent);
      for (const piece of Buffer.isBuffer(part) ? [part] : part) if (piece.length > 0) res.write(piece);
      meterBody(res, sent);
    }
    this.#hold(res);
  }
}
