/**
 * bk-ci's pipelines as lists. In bk-ci a pipeline is a definition and each of its builds (`b-…`) is a
 * run of it, so `Project.pipelines` lists runs: the project's pipelines' build histories
 * (`GET …/pipelines/{pipelineId}/builds/history`, newest build number first) merged newest first by
 * queue time. A run is a `PipelineModel` whose id is `pipelineId/buildId`, so runs of one pipeline
 * never share an id; `getPipeline` and `Pipeline.builds` read such an id back (bkci-apigw.ts).
 *
 * The v3 apigw has no project-wide history and no history filters, so a page costs the pipelines list
 * plus one history page per pipeline, and status and ref are narrowed here. A position holds how many
 * history records of each pipeline were passed, so a page resumes exactly; there is no going back.
 */
import { badUserInput, unsupported } from '../errors.js';
import type { BuildStatus, PipelineListRequest, PipelineModel, PipelinePage } from '../model.js';
import { type BkciBuild, type BkciMapping, type BkciPage, type BkciPipeline, bkciStatus, toBkciUser } from './bkci-entities.js';
import type { QueryValue } from './http.js';
import { encodePath } from './http.js';
import { readOffsetWindow } from './offset-paging.js';
import { forwardOnly } from './offset-window.js';
import type { CallContext } from './types.js';

/** bk-ci's history and pipelines `pageSize` limit. */
const MAX_PAGE_SIZE = 100;
/** Most rounds of history reads one filtered page makes before it answers short (with `hasNextPage`). */
const MAX_ROUNDS = 5;
/** A run's id: `p-…/b-…`. */
export const RUN_ID = /^(p-[A-Za-z0-9]{1,64})\/(b-[A-Za-z0-9]{1,64})$/;

/** A history record as the list and the status read send it (the fields runs use beside `BkciBuild`'s). */
export type BkciRun = BkciBuild & { trigger?: string | null; updateTime?: number | null };

export interface BkciPipelineDeps {
  upstream: string;
  mapping: BkciMapping;
  get<T>(call: CallContext, path: string, query?: Record<string, QueryValue>): Promise<T>;
}

const iso = (epochMs: number | null | undefined): string | null =>
  typeof epochMs === 'number' && epochMs > 0 ? new Date(epochMs).toISOString() : null;

/** One run of a pipeline as a pipeline model. */
export function toBkciRun(mapping: BkciMapping, projectId: string, pipelineId: string, name: string | null, run: BkciRun): PipelineModel {
  const material = run.material?.[0];
  const started = run.startTime ?? null;
  const ended = run.endTime ?? null;
  return {
    upstream: mapping.upstream,
    projectId,
    id: `${pipelineId}/${run.id}`,
    name,
    status: bkciStatus(run.status),
    upstreamStatus: run.status,
    ref: material?.branchName ?? run.webhookInfo?.webhookBranch ?? null,
    sha: material?.newCommitId ?? run.webhookInfo?.webhookCommitId ?? null,
    source: run.trigger ?? null,
    createdAt: iso(run.queueTime ?? run.startTime),
    updatedAt: iso(run.updateTime ?? run.endTime ?? run.startTime),
    startedAt: iso(started),
    finishedAt: iso(ended),
    duration: started ? ((ended ?? Date.now()) - started) / 1000 : null,
    webUrl: `${mapping.consoleOrigin}/console/pipeline/${projectId}/${pipelineId}/detail/${run.id}`,
    user: run.userId ? toBkciUser(mapping.upstream, run.userId) : null,
  };
}

/** `i:n,…`: history records passed per pipeline (by index in the pipelines list), zeros left out. */
function parseRunPosition(position: string | undefined, pipelines: number): number[] {
  const passed = new Array<number>(pipelines).fill(0);
  if (position === undefined || position === '') return passed;
  for (const part of position.split(',')) {
    const match = /^(\d{1,3}):(\d{1,9})$/.exec(part);
    if (!match || Number(match[1]) >= pipelines) throw badUserInput('`after` is not a cursor of this list', { argument: 'after' });
    passed[Number(match[1])] = Number(match[2]);
  }
  return passed;
}

const runPosition = (passed: readonly number[]): string =>
  passed.flatMap((n, i) => (n > 0 ? [`${i}:${n}`] : [])).join(',');

const runTime = (run: BkciRun): number => run.queueTime ?? run.startTime ?? 0;

interface Candidate {
  pipeline: number;
  /** Its index in the pipeline's history. */
  index: number;
  /**
   * Its queue time, clamped to be no later than that of the run before it in the history: the merge
   * then never takes a pipeline's runs out of their history order, so a position (a count of runs
   * passed) never skips one, whatever a retry did to a queue time.
   */
  time: number;
  run: BkciRun;
}

/** Newest first; ties by pipeline, then history order: one total order every page agrees on. */
const newestFirst = (a: Candidate, b: Candidate): number => b.time - a.time || a.pipeline - b.pipeline || a.index - b.index;

function candidatesOf(pipeline: number, start: number, runs: readonly BkciRun[]): Candidate[] {
  let time = Number.POSITIVE_INFINITY;
  return runs.map((run, k) => {
    time = Math.min(time, runTime(run));
    return { pipeline, index: start + k, time, run };
  });
}

export async function listBkciRuns(deps: BkciPipelineDeps, call: CallContext, request: PipelineListRequest): Promise<PipelinePage> {
  const { projectId } = request;
  if (request.sha !== undefined) throw unsupported(deps.upstream, 'Listing the pipelines of a commit');
  if (request.source !== undefined) throw unsupported(deps.upstream, 'Filtering pipeline runs by `source`');
  forwardOnly(request, deps.upstream, 'pipeline runs (merged from every pipeline\'s history)');
  const listed = await deps.get<BkciPage<BkciPipeline>>(call, encodePath`/projects/${projectId}/pipelines`, { page: 1, pageSize: MAX_PAGE_SIZE });
  const pipelines = listed.records ?? [];
  const passed = parseRunPosition(request.after, pipelines.length);
  const perPage = Math.min(request.perPage, MAX_PAGE_SIZE);
  const statuses = request.scope?.length ? new Set<BuildStatus>(request.scope) : undefined;
  const keep = (model: PipelineModel) => (!statuses || statuses.has(model.status!)) && (request.ref === undefined || model.ref === request.ref);
  const history = (pipelineId: string) => async (page: number, pageSize: number) => {
    const read = await deps.get<BkciPage<BkciRun>>(call, encodePath`/projects/${projectId}/pipelines/${pipelineId}/builds/history`, { page, pageSize });
    return { items: read.records ?? [], hasNext: read.page < read.totalPages, total: read.count ?? null };
  };

  const out: PipelineModel[] = [];
  const positions: string[] = [];
  let more = pipelines.length > 0;
  /** Pipelines whose history was read to its end and walked whole: not asked again. */
  const done = new Set<number>();
  // Unfiltered, one round fills the page (it walks at least the runs read from the pipeline whose
  // last one sorts first); a filter may pass over a round's runs, so a few more rounds are read.
  for (let round = 0; round < (statuses || request.ref !== undefined ? MAX_ROUNDS : 1) && more && out.length < request.perPage; round++) {
    const empty = { items: [] as BkciRun[], hasNext: false, total: null };
    const reads = await Promise.all(
      pipelines.map((pipeline, i) => (done.has(i) ? empty : readOffsetWindow(history(pipeline.pipelineId), passed[i]!, perPage, MAX_PAGE_SIZE))),
    );
    const perPipeline = reads.map((read, pipeline) => candidatesOf(pipeline, passed[pipeline]!, read.items));
    const candidates = perPipeline.flat().sort(newestFirst);
    // A run may be listed only if no unread run could be newer: it must not sort after the last run
    // read of any pipeline that has more.
    const frontiers = perPipeline.flatMap((read, pipeline) => (reads[pipeline]!.hasNext && read.length > 0 ? [read.at(-1)!] : []));
    let walked = 0;
    for (const candidate of candidates) {
      if (out.length === request.perPage || frontiers.some((frontier) => newestFirst(candidate, frontier) > 0)) break;
      walked += 1;
      passed[candidate.pipeline] = candidate.index + 1;
      const pipeline = pipelines[candidate.pipeline]!;
      const model = toBkciRun(deps.mapping, projectId, pipeline.pipelineId, pipeline.pipelineName ?? null, candidate.run);
      if (!keep(model)) continue;
      out.push(model);
      positions.push(runPosition(passed));
    }
    reads.forEach((read, i) => {
      if (!read.hasNext && passed[i]! >= (perPipeline[i]!.at(-1)?.index ?? -1) + 1) done.add(i);
    });
    more = walked < candidates.length || reads.some((read) => read.hasNext);
  }
  return { pipelines: out, positions, hasNextPage: more, hasPreviousPage: request.after !== undefined && request.after !== '', totalCount: null };
}

/** A run by its id (`p-…/b-…`): the build's status read, named by its pipeline's status read. */
export async function getBkciRun(deps: BkciPipelineDeps, call: CallContext, projectId: string, runId: string): Promise<PipelineModel> {
  const [, pipelineId, buildId] = RUN_ID.exec(runId) ?? [];
  if (!pipelineId || !buildId) throw badUserInput(`"${runId.slice(0, 80)}" is not a bk-ci pipeline run id`, { argument: 'id' });
  const base = encodePath`/projects/${projectId}/pipelines/${pipelineId}`;
  const [pipeline, run] = await Promise.all([
    deps.get<BkciPipeline>(call, `${base}/status`),
    deps.get<BkciRun>(call, `${base}/builds/${buildId}/status`),
  ]);
  return toBkciRun(deps.mapping, projectId, pipelineId, pipeline.pipelineName ?? null, { ...run, id: run.id ?? buildId });
}
