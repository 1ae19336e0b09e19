/**
 * `retryPipeline` and `cancelPipeline`: refused before any upstream request where the kind does not
 * declare them, then one adapter call (a single upstream POST, never retried: http.ts retries only GET
 * and HEAD), then the request's loaders agree with the upstream's answer.
 *
 * No finished-build cache entry needs invalidating: a GitLab retry makes new builds and leaves the old
 * ones as they were (`finishedBuildsAreFinal`), a GitLab cancel touches only builds that had not finished
 * (never cached), and bk-ci builds, retried in place, are never cached at all.
 */
import type { GatewayContext } from '../context.js';
import { unsupported } from '../errors.js';
import { decodeGlobalId } from '../relay.js';
import type { PipelineModel } from '../model.js';
import { descriptorOf } from '../upstreams/kinds/index.js';
import { checkNativeId } from './helpers.js';
import { canonicalProject, checkedProjectSpelling } from './project-id.js';

const OPERATIONS = {
  retry: { capability: 'pipelineRetry', method: 'retryPipeline', what: 'Retrying a pipeline' },
  cancel: { capability: 'pipelineCancel', method: 'cancelPipeline', what: 'Canceling a pipeline' },
} as const;

export async function mutatePipeline(context: GatewayContext, globalId: string, operation: keyof typeof OPERATIONS): Promise<{ pipeline: PipelineModel }> {
  const { capability, method, what } = OPERATIONS[operation];
  const [upstream, spelled, pipelineInput] = decodeGlobalId(globalId, 'Pipeline').parts as [string, string, string];
  const { adapter, call } = context.upstream(upstream);
  const spelling = checkedProjectSpelling(adapter, spelled);
  const pipelineId = checkNativeId(pipelineInput);
  const act = adapter[method];
  if (!descriptorOf(adapter.kind).capabilities[capability] || !act) throw unsupported(upstream, what);
  const projectId = await canonicalProject(context, upstream, spelling);
  const pipeline = await act.call(adapter, call, projectId, pipelineId);
  // What this request read before the mutation is stale now: the pipeline, its builds and their lists.
  const key = { upstream, projectId, id: pipelineId };
  context.loaders.pipeline.clear(key).prime(key, pipeline);
  context.loaders.build.clearAll();
  context.loaders.list.clearAll();
  return { pipeline };
}
