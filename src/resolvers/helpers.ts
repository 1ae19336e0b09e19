/**
 * The few shapes every resolver file shares: "use what the parent already has, else load it", Relay
 * paging arguments, and input checks made before any upstream request.
 */
import type { FieldNode, GraphQLResolveInfo, SelectionSetNode } from 'graphql';
import type { GatewayContext } from '../context.js';
import { badUserInput } from '../errors.js';
import { type BuildConnectionModel, decodeCursor, listKey, toConnection } from '../relay.js';
import { primeBuilds } from '../loaders/index.js';
import type { BuildListSource, BuildStatus } from '../model.js';

/**
 * A field resolver for partial models: the parent's value when the response it came from carried the
 * field (even as null), else the field of the full entity from a loader (one request per entity).
 */
export function orLoad<M extends object, K extends keyof M>(
  key: K,
  load: (parent: M, context: GatewayContext) => Promise<M>,
) {
  return async (parent: M, _args: unknown, context: GatewayContext): Promise<Exclude<M[K], undefined> | null> => {
    const own = parent[key];
    if (own !== undefined) return own as Exclude<M[K], undefined>;
    const full = await load(parent, context);
    return (full[key] ?? null) as Exclude<M[K], undefined> | null;
  };
}

/**
 * Whether the selection asks only for fields in `cheap` (fields that need no request of the object's
 * own). Lets `project(…)`, `pipeline(…)` and `commit(…)` stay free when only their lists are asked for,
 * and load (and fail with NOT_FOUND where they should) when anything else is.
 */
export function selectsOnly(info: GraphQLResolveInfo, cheap: ReadonlySet<string>): boolean {
  const visit = (selectionSet: SelectionSetNode | undefined, depth: number): boolean => {
    if (!selectionSet || depth > 8) return true;
    return selectionSet.selections.every((selection) => {
      if (selection.kind === 'Field') return cheap.has(selection.name.value);
      if (selection.kind === 'InlineFragment') return visit(selection.selectionSet, depth + 1);
      const fragment = info.fragments[selection.name.value];
      return visit(fragment?.selectionSet, depth + 1);
    });
  };
  return info.fieldNodes.every((node: FieldNode) => visit(node.selectionSet, 0));
}

export const DEFAULT_PAGE_SIZE = 20;

export interface ListArgs {
  scope?: readonly BuildStatus[] | null;
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/** The page size asked for, and the decoded cursors: `last` (with or without `before`) pages backward. */
export function pagingOf(context: GatewayContext, list: string, args: ListArgs) {
  const count = args.first ?? Math.min(DEFAULT_PAGE_SIZE, context.config.maxPageSize);
  const backward = args.last != null || args.before != null;
  if (!backward) return { count, after: args.after ? decodeCursor(list, args.after) : undefined };
  return {
    count,
    last: args.last ?? count,
    before: args.before ? decodeCursor(list, args.before, 'before') : undefined,
  };
}

/**
 * Lists builds from an upstream as a Relay connection. `first` was range-checked before execution
 * (useArgumentChecks, for literals, variables and defaults alike); absent, it is 20, or less where
 * `maxPageSize` is lower.
 */
export async function listBuilds(
  context: GatewayContext,
  upstream: string,
  source: BuildListSource,
  args: ListArgs,
): Promise<BuildConnectionModel> {
  const statuses = args.scope ? [...new Set(args.scope)] : undefined;
  const list = listKey(upstream, JSON.stringify(source), (statuses ?? []).join(','));
  const { count: first, ...cursors } = pagingOf(context, list, args);
  context.upstream(upstream); // BAD_USER_INPUT for an unknown upstream, before the loader
  const page = await context.loaders.list.load({ upstream, source, statuses, first, ...cursors });
  primeBuilds(context.loaders, page.builds);
  return toConnection(list, page);
}

// A number, a single name (bk-ci's `demo`) or a path of names (GitLab's `group/sub/project`).
const PROJECT_ID = /^(?:\d{1,18}|[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}(?:\/[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}){0,20})$/;

/** A project id or path; path segments may not be `.`-only, so no input can climb out of `/projects/`. */
export function checkProjectId(id: string): string {
  if (!PROJECT_ID.test(id) || id.split('/').some((segment) => /^\.+$/.test(segment))) {
    throw badUserInput(`"${id.slice(0, 80)}" is not a project id or path`, { argument: 'id' });
  }
  return id;
}

const NATIVE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/** An upstream's own id of a build or pipeline. */
export function checkNativeId(id: string, argument = 'id'): string {
  if (!NATIVE_ID.test(id)) throw badUserInput(`"${id.slice(0, 80)}" is not a valid ${argument}`, { argument });
  return id;
}

const SHA = /^[0-9a-fA-F]{7,64}$/;

export function checkSha(sha: string): string {
  if (!SHA.test(sha)) throw badUserInput(`"${sha.slice(0, 80)}" is not a commit SHA`, { argument: 'sha' });
  return sha.toLowerCase();
}
