/**
 * `failed`: a project's failed builds as a table. Pages through the project's builds (scope FAILED)
 * until `limit` builds or the last page.
 */
import type { FailedBuildsQuery } from '../generated/graphql.js';
import type { Client } from './client.js';
import { FailedBuildsQuery as FailedBuilds } from './operations.js';
import { formatTable } from './table.js';

export type FailedBuild = NonNullable<NonNullable<FailedBuildsQuery['project']>['builds']>['nodes'][number];

/** The most builds the gateway returns in one page (its `maxPageSize` may be lower; then it says so). */
export const PAGE_SIZE = 100;

export class ProjectNotFoundError extends Error {
  constructor(upstream: string, project: string) {
    super(`project ${JSON.stringify(project)} not found on upstream ${JSON.stringify(upstream)}`);
    this.name = 'ProjectNotFoundError';
  }
}

export async function failedBuilds(client: Client, upstream: string, project: string, limit: number): Promise<FailedBuild[]> {
  const builds: FailedBuild[] = [];
  let after: string | null = null;
  while (builds.length < limit) {
    const data: FailedBuildsQuery = await client.request(FailedBuilds, {
      upstream,
      project,
      first: Math.min(PAGE_SIZE, limit - builds.length),
      after,
    });
    if (!data.project) throw new ProjectNotFoundError(upstream, project);
    // A list that fails is null with its error, and `request` throws on errors: null here is a
    // gateway that broke its own contract.
    if (!data.project.builds) throw new Error(`the gateway answered no builds list for ${upstream}/${project}`);
    const { nodes, pageInfo } = data.project.builds;
    builds.push(...nodes);
    if (!pageInfo.hasNextPage || !pageInfo.endCursor || nodes.length === 0) break;
    after = pageInfo.endCursor;
  }
  return builds;
}

export const FAILED_COLUMNS = ['ID', 'NAME', 'REF', 'FAILURE REASON', 'WEB URL'] as const;

export function failedTable(builds: readonly FailedBuild[]): string {
  return formatTable(
    FAILED_COLUMNS,
    builds.map((build) => [build.id, build.name, build.ref, build.failureReason, build.webUrl]),
  );
}
