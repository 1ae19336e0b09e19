/**
 * A credential in the gateway's own URL (`?private_token=`, `access_token`, `job_token`, spelled any way
 * GitLab would read it) is refused with 400 BAD_REQUEST before anything runs. Honouring it would put
 * secrets in proxy and browser histories; ignoring it silently would run the operation with the
 * service credential instead, which is worse: the caller believes it acted as itself.
 */
import type { Plugin } from 'graphql-yoga';
import { errorResponse } from '../errors.js';
import { redactUrl } from '../logger.js';

/** Whether a URL (or path and query) carries a credential parameter: exactly when redaction changes it. */
export function hasUrlCredential(url: string | undefined): boolean {
  return url !== undefined && url.includes('?') && redactUrl(url) !== url;
}

export const URL_CREDENTIAL_MESSAGE =
  'Credentials are not accepted in the URL (private_token, access_token, job_token): send them in a header (PRIVATE-TOKEN, Authorization: Bearer …, X-DEVOPS-UID)';

export function useRefuseUrlCredentials(): Plugin {
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      if (!hasUrlCredential(request.url)) return;
      endResponse(errorResponse(fetchAPI, 400, URL_CREDENTIAL_MESSAGE));
    },
  };
}
