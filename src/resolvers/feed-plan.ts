/**
 * What every feed across upstreams and projects shares (`Query.builds(sources:)` in Feed.ts, and any
 * other list merged the same way): the client's sources checked and made canonical, the cursor turned
 * into positions and back, failed sources reported as errors beside the data. The merge and its
 * positions are loaders/feed.ts.
 */
import type { GraphQLResolveInfo } from 'graphql';
import type { GatewayContext } from '../context.js';
import { BuildgateError, badUserInput } from '../errors.js';
import type { BuildSource } from '../generated/resolvers.js';
import { type MergePage, type MergeResult, type SourcePosition, START, mergeSources } from '../loaders/feed.js';
import { decodeFeedCursor, encodeFeedCursor, feedBinding } from '../loaders/feed-cursor.js';
import { Connection } from '../relay.js';
import { isCanonicalProjectId } from '../upstreams/project-identity.js';
import { DEFAULT_PAGE_SIZE } from './helpers.js';
import { reportPartialError } from './partial-errors.js';
import { canonicalProject, checkedProjectSpelling } from './project-id.js';

/** The most sources one feed may merge: each costs an upstream page per page of the feed. */
export const MAX_FEED_SOURCES = 20;

/** A client's source, checked: its key in the cursor's order, and how to name it in an error. */
interface CheckedSource {
  upstream: string;
  /** The normalised spelling (no request made yet). */
  spelling: string;
  /** What the cursor binds to: GitLab matches paths case-insensitively, so a path's key is lowercased. */
  key: string;
  /** As the client wrote it, for errors. */
  given: string;
}

/**
 * The sources in the cursor's order (sorted by key, spellings that are equal once normalised given
 * once), checked before any upstream request: too many, an unknown upstream or a malformed project id
 * refuse the whole field.
 */
export function checkSources(context: GatewayContext, sources: readonly BuildSource[]): CheckedSource[] {
  if (sources.length === 0 || sources.length > MAX_FEED_SOURCES) {
    throw badUserInput(`\`sources\` must name 1 to ${MAX_FEED_SOURCES} projects, got ${sources.length}`, { argument: 'sources', max: MAX_FEED_SOURCES });
  }
  const byKey = new Map<string, CheckedSource>();
  for (const { upstream, project } of sources) {
    const { adapter } = context.upstream(upstream);
    const spelling = checkedProjectSpelling(adapter, project);
    const key = JSON.stringify([upstream, isCanonicalProjectId(adapter.kind, spelling) ? spelling : spelling.toLowerCase()]);
    if (!byKey.has(key)) byKey.set(key, { upstream, spelling, key, given: project });
  }
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Sources that are one project once resolved (`1` and `group/project`): read once, moved together. */
interface ResolvedGroup {
  upstream: string;
  projectId: string;
  /** Indexes into the checked sources; the first one's position is the group's. */
  members: number[];
}

export interface FeedPlan<T> {
  checked: CheckedSource[];
  groups: ResolvedGroup[];
  result: MergeResult<T>;
  /** Every checked source's position after the first `k` items of the page. */
  positionsAfter(k: number): SourcePosition[];
}

/**
 * One page of a feed: resolves the sources' canonical ids (a path costs one project read, cached),
 * merges a page of each, and reports each failed source (unresolvable, or its page failed) as an error
 * at the field's path. A failed source keeps its position in the cursor.
 */
export async function planFeed<T>(
  context: GatewayContext,
  info: Pick<GraphQLResolveInfo, 'path' | 'fieldNodes'>,
  checked: CheckedSource[],
  positions: readonly SourcePosition[],
  first: number,
  read: (upstream: string, projectId: string, after: string | undefined, first: number) => Promise<MergePage<T>>,
  createdAt: (item: T) => number,
): Promise<FeedPlan<T>> {
  const resolved = await Promise.allSettled(checked.map((source) => canonicalProject(context, source.upstream, source.spelling)));
  const groups: ResolvedGroup[] = [];
  const byProject = new Map<string, ResolvedGroup>();
  resolved.forEach((outcome, i) => {
    const source = checked[i]!;
    if (outcome.status === 'rejected') return reportSourceError(context, info, source, outcome.reason);
    const key = JSON.stringify([source.upstream, outcome.value]);
    const group = byProject.get(key);
    if (group) return void group.members.push(i);
    const created = { upstream: source.upstream, projectId: outcome.value, members: [i] };
    byProject.set(key, created);
    groups.push(created);
  });
  const result = await mergeSources(
    groups.map((group) => ({
      order: JSON.stringify([group.upstream, group.projectId]),
      fetch: (after: string | undefined, size: number) => read(group.upstream, group.projectId, after, size),
    })),
    groups.map((group) => positions[group.members[0]!] ?? START),
    first,
    createdAt,
  );
  for (const { source, error } of result.failures) reportSourceError(context, info, checked[groups[source]!.members[0]!]!, error);
  const positionsAfter = (k: number): SourcePosition[] => {
    const out = [...positions];
    result.positionsAfter(k).forEach((position, g) => {
      for (const member of groups[g]!.members) out[member] = position;
    });
    return out;
  };
  return { checked, groups, result, positionsAfter };
}

function reportSourceError(context: GatewayContext, info: Pick<GraphQLResolveInfo, 'path' | 'fieldNodes'>, source: CheckedSource, error: unknown): void {
  const coded = error instanceof BuildgateError ? error : undefined;
  const what = coded ? coded.message : 'the source could not be read';
  reportPartialError(context, info, `source ${source.upstream}/${source.given.slice(0, 80)} failed: ${what}`, {
    ...(coded?.extensions ?? { code: 'UPSTREAM_ERROR', upstream: source.upstream }),
    source: { upstream: source.upstream, project: source.given },
  });
}

/** The connection of a feed's page: one cursor per edge, each carrying every source's position after it. */
export function feedConnection<T>(plan: FeedPlan<T>, binding: string, hasPreviousPage: boolean): Connection<T> {
  const { items, hasNextPage } = plan.result;
  const cursorAfter = (k: number) => encodeFeedCursor(binding, plan.positionsAfter(k));
  // An empty page that has more (every source with builds failed) still gets a cursor to retry from.
  const emptyEndCursor = items.length === 0 && hasNextPage ? cursorAfter(0) : null;
  return new Connection(
    items.map(({ item }) => item),
    (i) => cursorAfter(i + 1),
    { hasNextPage, hasPreviousPage, totalCount: null },
    emptyEndCursor,
  );
}

export interface FeedArgs<S extends string> {
  sources: readonly BuildSource[];
  scope?: readonly S[] | null;
  first?: number | null;
  after?: string | null;
}

/** Reads one upstream page of one canonical source, with the feed's filter. */
export type ReadFeedPage<T, S extends string> = (
  upstream: string,
  projectId: string,
  statuses: S[] | undefined,
  after: string | undefined,
  first: number,
) => Promise<MergePage<T>>;

/** A page of the feed named `list` (its cursors are valid for it alone) as a Relay connection. */
export async function resolveFeed<T, S extends string>(
  list: string,
  args: FeedArgs<S>,
  context: GatewayContext,
  info: Pick<GraphQLResolveInfo, 'path' | 'fieldNodes'>,
  read: ReadFeedPage<T, S>,
  createdAt: (item: T) => number,
) {
  const checked = checkSources(context, args.sources);
  // A set: `[FAILED, RUNNING]` and `[RUNNING, FAILED]` are one feed, with one cursor.
  const statuses = args.scope ? [...new Set(args.scope)].sort() : undefined;
  const first = args.first ?? Math.min(DEFAULT_PAGE_SIZE, context.config.maxPageSize);
  const binding = feedBinding(list, statuses ?? [], checked.map((source) => source.key));
  const positions = args.after ? decodeFeedCursor(binding, checked.length, args.after) : checked.map(() => START);
  const plan = await planFeed<T>(context, info, checked, positions, first, (upstream, projectId, after, size) => read(upstream, projectId, statuses, after, size), createdAt);
  return feedConnection(plan, binding, Boolean(args.after));
}
