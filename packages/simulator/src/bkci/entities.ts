/**
 * bk-ci's JSON shapes, with its field names (process `Pipeline`, `BuildHistory`, `BuildHistoryWithVars`,
 * `ModelDetail`, common-pipeline `Stage`/`Container`/`Element`, in https://github.com/TencentBlueKing/bk-ci).
 * Times are epoch milliseconds; a start time never set is 0, as bk-ci renders `startTime ?: 0`. Fields bk-ci
 * has but the simulator has nothing to say about are present with bk-ci's empty value (null, [], false).
 */
import type { BkBuild, BkPipeline, ContainerRun, ElementRun, ErrorInfo, StageRun } from './model.js';
import { isBuildFinished } from './model.js';

type Json = Record<string, unknown>;

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

function timeCost(elapsed: number | null, queue = 0): Json {
  const execute = elapsed ?? 0;
  return { systemCost: 0, executeCost: execute, waitCost: 0, queueCost: queue, totalCost: execute + queue };
}

export function errorInfoList(build: BkBuild): ErrorInfo[] {
  const out: ErrorInfo[] = [];
  for (const stage of build.stages) for (const c of stage.containers) for (const e of c.elements) if (e.status === 'FAILED' && e.error) out.push(e.error);
  return out;
}

function executeTime(build: BkBuild): number | null {
  return build.endTime === null ? null : sum(build.stages.map((s) => s.elapsed ?? 0));
}

function artifactList(build: BkBuild): Json[] {
  if (build.status !== 'SUCCEED') return [];
  const uploaded = build.stages.some((s) => s.containers.some((c) => c.elements.some((e) => e.spec.atomCode === 'uploadArtifact' && e.status === 'SUCCEED')));
  if (!uploaded) return [];
  const name = `${build.pipeline.pipelineId}-${build.buildNum}.tar.gz`;
  return [
    {
      name,
      fullName: `/${build.pipeline.pipelineId}/${build.id}/${name}`,
      path: `/${build.pipeline.pipelineId}/${build.id}/${name}`,
      fullPath: `/${build.pipeline.pipelineId}/${build.id}/${name}`,
      size: 1_048_576 + (build.serial * 7919) % 50_000_000,
      folder: false,
      modifiedTime: build.endTime,
      artifactoryType: 'PIPELINE',
    },
  ];
}

function stageStatus(build: BkBuild): Json[] {
  return build.stages.map((s) => ({
    stageId: s.spec.id,
    name: s.spec.name,
    status: s.status,
    tag: [],
    startEpoch: s.startEpoch,
    elapsed: s.elapsed,
    showMsg: s.status === 'REVIEWING' ? '等待审核' : null,
    timeCost: timeCost(s.elapsed),
  }));
}

function buildParameters(build: BkBuild): Json[] {
  return Object.entries(build.params).map(([key, value]) => ({ key, value, valueType: 'STRING', readOnly: false, desc: null }));
}

/** `BuildHistory`: one record of `GET …/builds/history`. */
export function buildHistory(build: BkBuild, now: number): Json {
  const ended = build.endTime;
  return {
    id: build.id,
    userId: build.userId,
    trigger: build.trigger,
    buildNum: build.buildNum,
    pipelineVersion: build.pipeline.version,
    pipelineVersionName: `V${build.pipeline.version}`,
    startTime: build.startTime ?? 0,
    endTime: ended,
    status: build.status,
    stageStatus: stageStatus(build),
    deleteReason: null,
    currentTimestamp: now,
    mobileStart: false,
    material: build.material,
    queueTime: build.queueTime,
    currentQueuePosition: 0,
    artifactList: artifactList(build),
    artifactQuality: null,
    remark: build.remark,
    totalTime: ended === null || build.startTime === null ? null : ended - build.startTime,
    executeTime: executeTime(build),
    buildParameters: buildParameters(build),
    webHookType: build.trigger === 'WEB_HOOK' ? 'GIT' : null,
    webhookInfo: build.trigger === 'WEB_HOOK' ? { webhookRepoUrl: build.material[0]?.url ?? null, webhookBranch: build.branch, webhookCommitId: build.material[0]?.newCommitId ?? null, webhookEventType: 'PUSH' } : null,
    startType: build.trigger,
    recommendVersion: null,
    retry: build.retry,
    errorInfoList: errorInfoList(build),
    buildMsg: build.buildMsg,
    buildNumAlias: null,
    updateTime: build.updateTime,
    concurrencyGroup: null,
    executeCount: build.executeCount,
  };
}

/** `BuildHistoryWithVars`: `GET …/builds/{buildId}/status`. */
export function buildStatus(build: BkBuild, now: number): Json {
  const record = buildHistory(build, now);
  const variables: Record<string, string> = {
    BK_CI_PROJECT_NAME: build.pipeline.projectId,
    BK_CI_PIPELINE_ID: build.pipeline.pipelineId,
    BK_CI_PIPELINE_NAME: build.pipeline.name,
    BK_CI_BUILD_ID: build.id,
    BK_CI_BUILD_NUM: String(build.buildNum),
    BK_CI_START_TYPE: build.trigger,
    BK_CI_START_USER_ID: build.userId,
    BK_CI_GIT_REPO_BRANCH: build.branch,
    BK_CI_RETRY_COUNT: String(build.executeCount - 1),
    ...build.params,
  };
  return { ...record, variables };
}

function element(run: ElementRun, finished: boolean): Json {
  const failed = run.status === 'FAILED' || run.status === 'CANCELED';
  return {
    '@type': run.spec.classType,
    id: run.spec.id,
    name: run.spec.name,
    atomCode: run.spec.atomCode,
    version: run.spec.version,
    status: run.status,
    executeCount: run.executeCount,
    canRetry: finished && failed,
    canSkip: finished && failed,
    startEpoch: run.startEpoch,
    elapsed: run.elapsed,
    stepId: null,
    errorType: run.error ? 'USER' : null,
    errorCode: run.error?.errorCode ?? null,
    errorMsg: run.error?.errorMsg ?? null,
    additionalOptions: { enable: true, continueWhenFailed: false, runCondition: run.spec.onlyOnBranch ? 'CUSTOM_VARIABLE_MATCH' : 'PRE_TASK_SUCCESS' },
    timeCost: timeCost(run.elapsed),
    ...(run.spec.script === null ? {} : { scriptType: 'SHELL', script: run.spec.script }),
  };
}

function container(run: ContainerRun, finished: boolean): Json {
  return {
    '@type': 'vmBuild',
    id: run.spec.seq,
    containerId: run.spec.seq,
    containerHashId: run.spec.hashId,
    name: run.spec.name,
    status: run.status,
    baseOS: run.spec.baseOS,
    executeCount: run.executeCount,
    startEpoch: run.startEpoch,
    systemElapsed: run.elapsed === null ? null : 0,
    elementElapsed: run.elapsed,
    canRetry: finished && (run.status === 'FAILED' || run.status === 'CANCELED'),
    jobId: null,
    matrixGroupFlag: false,
    timeCost: timeCost(run.elapsed),
    elements: run.elements.map((e) => element(e, finished)),
  };
}

function stage(run: StageRun, finished: boolean): Json {
  return {
    id: run.spec.id,
    name: run.spec.name,
    tag: [],
    status: run.status,
    startEpoch: run.startEpoch,
    elapsed: run.elapsed,
    fastKill: false,
    finally: false,
    canRetry: finished && (run.status === 'FAILED' || run.status === 'CANCELED'),
    checkIn: run.spec.review
      ? { manualTrigger: true, status: run.status === 'REVIEWING' ? 'REVIEWING' : run.status === 'REVIEW_ABORT' ? 'REVIEW_ABORT' : run.reviewed ? 'REVIEW_PROCESSED' : null, reviewDesc: '生产发布需审批' }
      : null,
    timeCost: timeCost(run.elapsed),
    containers: run.containers.map((c) => container(c, finished)),
  };
}

/** `ModelDetail`: `GET …/builds/{buildId}/detail`; the model is how a client finds jobs and steps. */
export function modelDetail(build: BkBuild, now: number): Json {
  const pipeline = build.pipeline;
  const finished = isBuildFinished(build.status);
  const latest = pipeline.builds[pipeline.builds.length - 1];
  return {
    id: build.id,
    pipelineId: pipeline.pipelineId,
    pipelineName: pipeline.name,
    userId: build.userId,
    triggerUser: build.userId,
    trigger: build.trigger,
    startTime: build.startTime ?? 0,
    endTime: build.endTime,
    status: build.status,
    model: {
      name: pipeline.name,
      desc: pipeline.desc,
      stages: build.stages.map((s) => stage(s, finished)),
      labels: [],
      instanceFromTemplate: false,
      pipelineCreator: pipeline.creator,
      latestVersion: pipeline.version,
      srcTemplateId: null,
      timeCost: timeCost(executeTime(build)),
    },
    currentTimestamp: now,
    buildNum: build.buildNum,
    cancelUserId: build.cancelUserId,
    curVersion: pipeline.version,
    latestVersion: pipeline.version,
    latestBuildNum: latest?.buildNum ?? build.buildNum,
    lastModifyUser: pipeline.creator,
    executeTime: executeTime(build) ?? 0,
    pipelineVersion: pipeline.version,
    buildMsg: build.buildMsg,
    material: build.material,
    remark: build.remark,
    executeCount: build.executeCount,
    webhookInfo: null,
    triggerReviewers: null,
  };
}

/** process `Pipeline`: one record of `GET …/pipelines`, and `GET …/pipelines/{pipelineId}/status`. */
export function pipelineRecord(pipeline: BkPipeline, now: number): Json {
  const latest = pipeline.builds[pipeline.builds.length - 1];
  const running = pipeline.builds.filter((b) => !isBuildFinished(b.status)).length;
  const runningStep = latest?.stages.flatMap((s) => s.containers.flatMap((c) => c.elements)).find((e) => e.status === 'RUNNING');
  return {
    projectId: pipeline.projectId,
    pipelineId: pipeline.pipelineId,
    pipelineName: pipeline.name,
    pipelineDesc: pipeline.desc,
    taskCount: sum(pipeline.stages.map((s) => sum(s.containers.map((c) => c.elements.length)))),
    buildCount: pipeline.builds.length,
    lock: false,
    canManualStartup: true,
    latestBuildStartTime: latest?.startTime ?? null,
    latestBuildEndTime: latest?.endTime ?? null,
    latestBuildStatus: latest?.status ?? null,
    latestBuildNum: latest?.buildNum ?? null,
    latestBuildTaskName: runningStep?.spec.name ?? null,
    latestBuildEstimatedExecutionSeconds: null,
    latestBuildId: latest?.id ?? null,
    deploymentTime: pipeline.deploymentTime,
    createTime: pipeline.createTime,
    updateTime: pipeline.deploymentTime,
    pipelineVersion: pipeline.version,
    currentTimestamp: now,
    runningBuildCount: running,
    hasPermission: true,
    hasCollect: false,
    latestBuildUserId: latest?.userId ?? '',
    instanceFromTemplate: false,
    creator: pipeline.creator,
    groupLabel: [],
  };
}
