/**
 * Which browser origins may use the gateway. A page's origin is allowed when it is the gateway's own
 * or listed in `cors.origins`; nothing else gets CORS headers (so a page on another site cannot read an
 * answer made with the gateway's service credential) or a WebSocket (cross-site WebSocket hijacking:
 * browsers send no preflight for an upgrade, only the `Origin` header).
 */
import type { IncomingMessage } from 'node:http';
import type { CORSOptions, Plugin } from 'graphql-yoga';

/** Origins as browsers serialise them (`https://ci.example.com`, no path, default port dropped). */
export function normaliseOrigins(origins: readonly string[]): Set<string> {
  const normalised = new Set<string>();
  for (const origin of origins) {
    try {
      const url = new URL(origin);
      if (url.protocol === 'http:' || url.protocol === 'https:') normalised.add(url.origin);
    } catch {
      // Not a URL: it can never equal a browser's Origin header, so it allows nothing.
    }
  }
  return normalised;
}

/** The response headers a listed browser origin gets to read, besides the CORS-safelisted ones. */
const EXPOSED_HEADERS = ['x-request-id'];

/**
 * yoga's `cors` option: CORS with credentials for listed origins only. Same-origin pages need no CORS
 * headers, and a request without `Origin` is not a browser's cross-site one.
 */
export function corsFor(origins: readonly string[]): (request: Request) => CORSOptions {
  const allowed = normaliseOrigins(origins);
  return (request) => {
    const origin = request.headers.get('origin');
    if (origin === null || !allowed.has(origin)) return false;
    return { origin, credentials: true, exposedHeaders: EXPOSED_HEADERS, maxAge: 600 };
  };
}

/**
 * With origins listed, an answer's CORS headers depend on the request's `Origin`: say so, or a shared
 * cache could hand one origin's answer (with its `access-control-allow-origin`) to another.
 */
export function useVaryOnOrigin(origins: readonly string[]): Plugin {
  if (normaliseOrigins(origins).size === 0) return {};
  return {
    onResponse({ response }) {
      const vary = response.headers.get('vary');
      if (!vary || !/\borigin\b/i.test(vary)) response.headers.append('vary', 'Origin');
    },
  };
}

/** True when `origin` is the one the request was addressed to (the page came from the gateway itself). */
function isSameOrigin(origin: string, req: IncomingMessage): boolean {
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

type VerifyClient = (info: { origin: string; req: IncomingMessage }, callback: (result: boolean, code?: number, message?: string) => void) => void;

/**
 * `WebSocketServer`'s `verifyClient`: upgrades without `Origin` (non-browser clients) and from the
 * gateway's own or a listed origin are accepted; any other browser page is answered 403.
 */
export function verifyWebSocketOrigin(origins: readonly string[]): VerifyClient {
  const allowed = normaliseOrigins(origins);
  return ({ origin, req }, callback) => {
    if (!origin || allowed.has(origin) || isSameOrigin(origin, req)) callback(true);
    else callback(false, 403, 'Origin not allowed');
  };
}
