/** `/` is not an API: a browser that opens the gateway's root is sent to GraphiQL at `/graphql`. */
import type { Plugin } from 'graphql-yoga';

export function useRootRedirect(target = '/graphql'): Plugin {
  return {
    onRequest({ url, request, endResponse, fetchAPI }) {
      if (url.pathname === '/' && request.method === 'GET') {
        endResponse(new fetchAPI.Response(null, { status: 302, headers: { location: target } }));
      }
    },
  };
}
