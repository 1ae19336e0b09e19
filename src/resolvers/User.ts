import type { GatewayContext } from '../context.js';
import type { UserResolvers } from '../generated/resolvers.js';
import { encodeGlobalId } from '../relay.js';
import type { UserModel } from '../model.js';
import { orLoad } from './helpers.js';

const loadUser = (user: UserModel, context: GatewayContext) => context.loaders.user.load(user);

export const User: UserResolvers = {
  id: (user) => encodeGlobalId('User', user.upstream, user.id),
  upstreamId: (user) => user.id,
  username: async (user, _args, context) => user.username ?? (await loadUser(user, context)).username ?? '',
  name: orLoad('name', loadUser),
  state: orLoad('state', loadUser),
  avatarUrl: orLoad('avatarUrl', loadUser),
  webUrl: orLoad('webUrl', loadUser),
};
