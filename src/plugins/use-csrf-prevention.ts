/**
 * No operation runs from another site's page (issue #12, 8a). A browser sends a cross-site request
 * without a CORS preflight only when it is "simple": GET/HEAD/POST, a form, multipart or text/plain
 * body (or none), and no custom header. Such a request would run with the gateway's service credential,
 * so it must carry a header a page cannot add without a preflight: yoga's CSRF plugin decides that for
 * `/graphql`; the same check guards the graphql-sse endpoint, which answers before yoga parses.
 * Requests refused here make no upstream request. JSON POSTs, non-simple methods (graphql-sse's PUT)
 * and requests that carry a credential header or the graphql-sse token are not affected.
 */
import { useCSRFPrevention as useYogaCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { type Plugin, createGraphQLError } from 'graphql-yoga';
import { CLIENT_CREDENTIAL_HEADERS } from '../credentials.js';
import { errorResponse } from '../errors.js';

/** GraphiQL sends it (see `additionalHeaders` in server.ts); any client may. */
export const CSRF_HEADER = 'x-graphql-yoga-csrf';

/**
 * Headers a browser page can only send after a preflight, so their presence proves the request passed
 * CORS: ours, graphql-sse's stream token, and the credential headers (never `cookie`, which browsers add).
 */
const PREFLIGHTED_HEADERS = [CSRF_HEADER, 'x-graphql-event-stream-token', 'job-token', ...CLIENT_CREDENTIAL_HEADERS];

/** Methods a cross-site page can use without a preflight. */
const SIMPLE_METHODS = new Set(['GET', 'HEAD', 'POST']);

export interface CSRFPreventionOptions {
  /** The graphql-sse endpoint, checked in `onRequest` since it answers there. @default '/graphql/stream' */
  streamEndpoint?: string;
}

const REFUSAL_MESSAGE = `Cross-site request refused: send a JSON body, or the ${CSRF_HEADER} header`;

const refusal = () => createGraphQLError(REFUSAL_MESSAGE, { extensions: { code: 'CSRF_PREVENTED', http: { status: 403 } } });

export function useCSRFPrevention({ streamEndpoint = '/graphql/stream' }: CSRFPreventionOptions = {}): Plugin {
  const yogaCheck = useYogaCSRFPrevention({ requestHeaders: PREFLIGHTED_HEADERS }).onRequestParse!;
  const refused = (request: Request): boolean => {
    if (!SIMPLE_METHODS.has(request.method)) return false;
    try {
      yogaCheck({ request } as never);
      return false;
    } catch {
      return true;
    }
  };
  return {
    onRequest({ url, request, endResponse, fetchAPI }) {
      if (url.pathname !== streamEndpoint || !refused(request)) return;
      endResponse(errorResponse(fetchAPI, 403, REFUSAL_MESSAGE, { code: 'CSRF_PREVENTED' }));
    },
    onRequestParse({ request }) {
      if (refused(request)) throw refusal();
    },
  };
}
