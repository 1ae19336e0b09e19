/** `GET /users` (by `username`, paged) and `GET /users/:id`. */
import { ERRORS, json } from '../../http.js';
import type { Reply } from '../../http.js';
import { offsetHeaders, pageRequest } from '../../pagination.js';
import type { RequestContext } from '../context.js';
import type { GitlabV4Deps, V4Lookup } from './lookup.js';
import { isReply } from './params.js';

export function v4UserHandlers({ store, entities }: GitlabV4Deps, { linkBase }: V4Lookup) {
  function getUser(ctx: RequestContext): Reply {
    const user = store.users.get(Number(ctx.params.id));
    return user ? json(200, entities.user(user)) : ERRORS.userNotFound;
  }

  function listUsers(ctx: RequestContext): Reply {
    const request = pageRequest(ctx.query);
    if (isReply(request)) return request;
    const username = ctx.query.username;
    const all = [...store.users.values()].filter((u) => username === undefined || u.username === username);
    const start = (request.page - 1) * request.perPage;
    const headers = offsetHeaders(linkBase(ctx, {}), { ...request, hasNext: start + request.perPage < all.length, total: all.length });
    return json(200, all.slice(start, start + request.perPage).map((u) => entities.user(u)), headers);
  }

  return { getUser, listUsers };
}
