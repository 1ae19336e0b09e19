/**
 * `Project.pipelines` and `Commit.pipelines` as Relay connections, with the same argument rules as the
 * build lists (helpers.ts): `first`/`last` range-checked before execution, cursors bound to their list,
 * refusals on the list field only.
 */
import type { GatewayContext } from '../context.js';
import { badUserInput, unsupported } from '../errors.js';
import { descriptorOf } from '../upstreams/kinds/index.js';
import { type PipelineConnectionModel, listKey, toPipelineConnection } from '../relay.js';
import type { BuildStatus } from '../model.js';
import { type ListArgs, pagingOf } from './helpers.js';

export interface PipelineListArgs extends ListArgs {
  ref?: string | null;
  source?: string | null;
}

/** Git allows long ref names, but no upstream stores one over 255 bytes; `source` is a short word. */
function checkFilter(name: 'ref' | 'source', value: string | null | undefined, max: number): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (value.length === 0 || value.length > max || /[\u0000-\u001f\u007f]/.test(value)) {
    throw badUserInput(`\`${name}\` must be 1 to ${max} characters, with no control characters`, { argument: name });
  }
  return value;
}

export async function listPipelines(
  context: GatewayContext,
  upstream: string,
  owner: { projectId: string; sha?: string },
  args: PipelineListArgs,
): Promise<PipelineConnectionModel> {
  const scope: BuildStatus[] | undefined = args.scope?.length ? [...new Set(args.scope)] : undefined;
  const ref = checkFilter('ref', args.ref, 255);
  const source = checkFilter('source', args.source, 64);
  // Statuses are a set: a cursor of `[FAILED, SUCCESS]` continues `[SUCCESS, FAILED]`.
  const list = listKey(upstream, 'pipelines', owner.projectId, owner.sha ?? '', [...(scope ?? [])].sort().join(','), ref ?? '', source ?? '');
  const { count, ...cursors } = pagingOf(context, list, args);
  // BAD_USER_INPUT for an unknown upstream, and a filter the kind cannot apply refused, before the loader.
  const { pipelineFilters } = descriptorOf(context.upstream(upstream).adapter.kind).capabilities;
  for (const [name, value] of [['ref', ref], ['source', source], ['sha', owner.sha]] as const) {
    if (value !== undefined && !pipelineFilters.includes(name)) {
      throw unsupported(upstream, name === 'sha' ? "Listing a commit's pipelines" : `Filtering pipelines by \`${name}\``);
    }
  }
  const page = await context.loaders.pipelineList.load({
    upstream,
    projectId: owner.projectId,
    sha: owner.sha,
    scope,
    ref,
    source,
    perPage: count,
    ...cursors,
  });
  return toPipelineConnection(list, page);
}
