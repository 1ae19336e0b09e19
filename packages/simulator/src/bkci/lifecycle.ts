/**
 * State changes of bk-ci builds, in one place: the generator plays history through these functions,
 * the clock advances live builds with them, and the start/stop/retry routes call them, so a build
 * retried by a client runs the same QUEUE → RUNNING → stage by stage path as any other.
 *
 * One tick: the current stage's jobs run in parallel; each job's running step writes a few log lines
 * and ends when its planned lines are out, and the job's next step starts at once. A stage settles
 * when all its jobs have and the next one opens at once; a failed or canceled stage ends the build,
 * a stage with a review gate parks the build in REVIEWING until `review()`.
 */
import { Prng, hash32 } from '../prng.js';
import { BK_CODES } from './errors.js';
import type { BkError } from './errors.js';
import { TAIL_LINES, appendLines, idHash } from './logs.js';
import type { BkBuild, BkStatus, ContainerRun, ElementRun, StageRun } from './model.js';
import { isBuildFinished, isPending, isRetryable, rollup } from './model.js';
import type { BkciStore } from './store.js';

/** Share of live attempts with a failing step: first attempts fail more often than retries. */
const FIRST_FAILURE = 0.3;
const RETRY_FAILURE = 0.2;

export interface RetryRequest {
  readonly taskId?: string | undefined;
  readonly failedContainer: boolean;
  readonly skip: boolean;
}

/** bk-ci's `BuildId` as the v4 docs show it; retry answers the same id with the new attempt number. */
export interface BuildIdJson {
  readonly id: string;
  readonly executeCount: number;
  readonly num: number;
  readonly pipelineId: string;
  readonly projectId: string;
}

export function buildIdOf(build: BkBuild): BuildIdJson {
  return { id: build.id, executeCount: build.executeCount, num: build.buildNum, pipelineId: build.pipeline.pipelineId, projectId: build.pipeline.projectId };
}

type Target =
  | { readonly kind: 'stage'; readonly stage: number }
  | { readonly kind: 'container'; readonly stage: number; readonly container: ContainerRun }
  | { readonly kind: 'element'; readonly stage: number; readonly container: ContainerRun; readonly element: number };

/** Where a retry `taskId` points: a stage (`s-`), a job (`c-` hash id or its sequence id) or a step (`e-`). */
function locate(build: BkBuild, taskId: string): Target | undefined {
  for (let s = 0; s < build.stages.length; s++) {
    const stage = build.stages[s] as StageRun;
    if (stage.spec.id === taskId) return { kind: 'stage', stage: s };
    for (const container of stage.containers) {
      if (container.spec.hashId === taskId || container.spec.seq === taskId) return { kind: 'container', stage: s, container };
      const element = container.elements.findIndex((e) => e.spec.id === taskId);
      if (element !== -1) return { kind: 'element', stage: s, container, element };
    }
  }
  return undefined;
}

function resetElement(element: ElementRun): void {
  element.status = 'QUEUE';
  element.startEpoch = null;
  element.elapsed = null;
  element.total = 0;
  element.emitted = 0;
  element.error = null;
}

/** Steps from `from` on run again; the ones before keep their status and attempt number. */
function resetContainer(container: ContainerRun, from = 0): void {
  container.elements.slice(from).forEach(resetElement);
  container.status = 'QUEUE';
  container.startEpoch = null;
  container.elapsed = null;
}

/** Marks the job's failed (or canceled) step SKIP and lets the job continue after it. */
function skipFailed(container: ContainerRun): void {
  const index = container.elements.findIndex((e) => isRetryable(e.status));
  if (index === -1) return resetContainer(container);
  const element = container.elements[index] as ElementRun;
  element.status = 'SKIP';
  element.error = null;
  resetContainer(container, index + 1);
}

function reopenStage(stage: StageRun, full: boolean): void {
  stage.status = 'QUEUE';
  stage.startEpoch = null;
  stage.elapsed = null;
  if (full) stage.reviewed = false;
}

/** Every part still QUEUE when a build ends never ran: bk-ci shows it as UNEXEC. */
function markUnexecuted(build: BkBuild): void {
  for (const stage of build.stages) {
    if (stage.status === 'QUEUE') stage.status = 'UNEXEC';
    for (const container of stage.containers) {
      if (container.status === 'QUEUE') container.status = 'UNEXEC';
      for (const element of container.elements) if (element.status === 'QUEUE') element.status = 'UNEXEC';
    }
  }
}

export class BkLifecycle {
  readonly #store: BkciStore;
  readonly #seed: number;

  constructor(store: BkciStore, seed: number) {
    this.#store = store;
    this.#seed = seed;
  }

  /** The step that fails in the build's current attempt, decided per build and attempt from the seed. */
  planFailure(build: BkBuild): string | null {
    const rng = new Prng(hash32(this.#seed, build.serial, build.executeCount, 0xfa11));
    if (!rng.chance(build.executeCount === 1 ? FIRST_FAILURE : RETRY_FAILURE)) return null;
    const candidates = build.stages.flatMap((s) => s.containers.flatMap((c) => c.elements.filter((e) => e.spec.canFail && e.status === 'QUEUE')));
    return candidates.length === 0 ? null : rng.pick(candidates).spec.id;
  }

  /** Hands a QUEUE build to the clock; it starts on the next tick. */
  enqueue(build: BkBuild): void {
    build.status = 'QUEUE';
    build.waited = 0;
    this.#store.active.add(build);
  }

  /** QUEUE → RUNNING, with its first tick of work. */
  begin(build: BkBuild, now: number): void {
    build.status = 'RUNNING';
    build.startTime = now;
    build.updateTime = now;
    this.#store.active.add(build);
    this.advance(build, now);
  }

  /**
   * One tick of a RUNNING build: every running step writes its next lines. As in bk-ci, the next step
   * starts as soon as one ends, and the next stage as soon as one settles, so a running job always has
   * a RUNNING step and every tick of a running build adds to its log.
   */
  advance(build: BkBuild, now: number): void {
    if (build.status !== 'RUNNING') return;
    build.updateTime = now;
    let stage = build.stages.find((s) => isPending(s.status));
    if (!stage) return this.#conclude(build, now);
    if (stage.status === 'QUEUE') {
      // Just started, retried or approved: opening the stage starts its jobs' first steps.
      if (!this.#openStage(build, stage, now)) return;
    } else {
      for (const container of stage.containers) if (isPending(container.status)) this.#work(build, container, now);
    }
    while (!stage.containers.some((c) => isPending(c.status))) {
      stage.status = rollup(stage.containers.map((c) => c.status));
      stage.elapsed = now - (stage.startEpoch ?? now);
      const next: StageRun | undefined = build.stages.find((s) => isPending(s.status));
      if (stage.status !== 'SUCCEED' || !next) return this.#conclude(build, now);
      stage = next;
      if (!this.#openStage(build, stage, now)) return;
    }
  }

  /** QUEUE → RUNNING with its waiting jobs started, or the build parked at the stage's review gate. */
  #openStage(build: BkBuild, stage: StageRun, now: number): boolean {
    if (stage.spec.review && !stage.reviewed) {
      stage.status = 'REVIEWING';
      build.status = 'REVIEWING';
      this.#store.active.delete(build);
      return false;
    }
    stage.status = 'RUNNING';
    stage.startEpoch = now;
    for (const container of stage.containers) if (container.status === 'QUEUE') this.#startContainer(build, container, now);
    return true;
  }

  #startContainer(build: BkBuild, container: ContainerRun, now: number): void {
    container.status = 'RUNNING';
    container.startEpoch = now;
    container.executeCount = build.executeCount;
    this.#startNextStep(build, container, now);
  }

  /** Starts the job's next waiting step (its first log line), or settles the job when none is left. */
  #startNextStep(build: BkBuild, container: ContainerRun, now: number): void {
    let element = container.elements.find((e) => e.status === 'QUEUE');
    // A step whose run condition does not hold is skipped at once (bk-ci writes no log for it).
    while (element && element.spec.onlyOnBranch !== null && element.spec.onlyOnBranch !== build.branch) {
      element.status = 'SKIP';
      element.executeCount = build.executeCount;
      element = container.elements.find((e) => e.status === 'QUEUE');
    }
    if (!element) return this.#settleContainer(container, now);
    element.status = 'RUNNING';
    element.executeCount = build.executeCount;
    element.startEpoch = now;
    const [min, max] = element.spec.lines;
    element.total = new Prng(hash32(this.#seed, build.serial, build.executeCount, idHash(element.spec.id))).int(min, max);
    element.emitted = 0;
    appendLines(build, container.spec, element, 'head', 1, now);
  }

  /** One tick of a job: its running step writes a few lines, and ends when its planned lines are out. */
  #work(build: BkBuild, container: ContainerRun, now: number): void {
    if (container.status === 'QUEUE') return this.#startContainer(build, container, now); // re-run by a running retry
    const element = container.elements.find((e) => e.status === 'RUNNING');
    if (!element) return this.#startNextStep(build, container, now);
    const count = Math.min(element.spec.perTick, element.total - element.emitted);
    appendLines(build, container.spec, element, 'body', count, now);
    element.emitted += count;
    if (element.emitted < element.total) return;
    const failed = build.failAt === element.spec.id;
    element.status = failed ? 'FAILED' : 'SUCCEED';
    element.elapsed = now - (element.startEpoch ?? now);
    appendLines(build, container.spec, element, failed ? 'fail' : 'ok', failed ? TAIL_LINES.fail : TAIL_LINES.ok, now);
    if (!failed) return this.#startNextStep(build, container, now);
    const stage = build.stages.find((s) => s.containers.includes(container));
    element.error = {
      stageId: stage?.spec.id ?? '',
      containerId: container.spec.seq,
      taskId: element.spec.id,
      taskName: element.spec.name,
      atomCode: element.spec.atomCode,
      errorType: 1,
      errorCode: 2199001,
      errorMsg: `[${element.spec.name}] 插件执行失败: 2 个测试用例失败 (exit code 1)`,
    };
    this.#settleContainer(container, now);
  }

  #settleContainer(container: ContainerRun, now: number): void {
    for (const element of container.elements) if (element.status === 'QUEUE') element.status = 'UNEXEC';
    container.status = rollup(container.elements.map((e) => e.status));
    container.elapsed = now - (container.startEpoch ?? now);
  }

  #conclude(build: BkBuild, now: number): void {
    const statuses = build.stages.map((s) => s.status);
    let status: BkStatus = rollup(statuses);
    if (status === 'SUCCEED' && statuses.includes('REVIEW_ABORT')) status = 'STAGE_SUCCESS';
    markUnexecuted(build);
    build.status = status;
    build.endTime = now;
    build.updateTime = now;
    this.#store.active.delete(build);
  }

  /** Decides a stage review: approval lets the clock run the stage; rejection ends the build STAGE_SUCCESS. */
  review(build: BkBuild, approve: boolean, now: number): void {
    const stage = build.stages.find((s) => s.status === 'REVIEWING');
    if (!stage || build.status !== 'REVIEWING') return;
    if (approve) {
      stage.reviewed = true;
      stage.status = 'QUEUE';
      build.status = 'RUNNING';
      build.updateTime = now;
      this.#store.active.add(build);
      return;
    }
    stage.status = 'REVIEW_ABORT';
    this.#conclude(build, now);
  }

  /** bk-ci's stop: running steps CANCELED, the rest UNEXEC; a finished build is refused. */
  stop(build: BkBuild, userId: string, now: number): true | BkError {
    if (isBuildFinished(build.status)) {
      return { http: 400, code: BK_CODES.BUILD_ENDED, message: `流水线构建[${build.id}]已结束，不能取消` };
    }
    for (const stage of build.stages) {
      for (const container of stage.containers) {
        for (const element of container.elements) {
          if (element.status !== 'RUNNING') continue;
          element.status = 'CANCELED';
          element.elapsed = now - (element.startEpoch ?? now);
          appendLines(build, container.spec, element, 'cancel', TAIL_LINES.cancel, now);
        }
        if (container.status === 'RUNNING') container.status = 'CANCELED';
      }
      if (stage.status === 'RUNNING' || stage.status === 'REVIEWING') stage.status = 'CANCELED';
    }
    markUnexecuted(build);
    build.status = 'CANCELED';
    build.cancelUserId = userId;
    build.endTime = now;
    build.updateTime = now;
    this.#store.active.delete(build);
    return true;
  }

  /**
   * bk-ci's retry (`PipelineBuildFacadeService.retry`): same build id, `executeCount` + 1, back to QUEUE. A
   * build that is not finished only accepts a `taskId` naming a failed step or job of the running stage.
   */
  retry(build: BkBuild, request: RetryRequest, userId: string, now: number): BuildIdJson | BkError {
    const target = request.taskId === undefined ? undefined : locate(build, request.taskId);
    if (request.taskId !== undefined && !target) {
      return {
        http: 400,
        code: BK_CODES.PARAM_INVALID,
        message: `重试的任务[${request.taskId}]不在构建[${build.id}]中: taskId must be a stage (s-…), job (c-…) or step (e-…) id of this build`,
      };
    }
    if (!isBuildFinished(build.status)) return this.#runningRetry(build, target, request, userId, now);
    if (target) {
      const refused = this.#checkFailed(build, target);
      if (refused) return refused;
    }
    const from = target ? target.stage : request.failedContainer ? Math.max(0, build.stages.findIndex((s) => isRetryable(s.status))) : 0;
    const stage = build.stages[from] as StageRun;
    if (!target || target.kind === 'stage') {
      // A whole-stage retry: all its jobs, or with failedContainer only the failed and canceled ones;
      // skip=true (with a stage id) skips every failed step of the stage instead.
      const onlyFailed = request.failedContainer && isRetryable(stage.status);
      for (const container of stage.containers) {
        if (target && request.skip) {
          if (isRetryable(container.status)) skipFailed(container);
        } else if (!onlyFailed || isRetryable(container.status) || container.status === 'UNEXEC') {
          resetContainer(container);
        }
      }
      reopenStage(stage, !onlyFailed && !request.skip);
    } else {
      const index = target.kind === 'element' ? target.element : 0;
      if (request.skip) skipFailed(target.container);
      else resetContainer(target.container, index);
      // The other unfinished jobs of the stage run too; finished ones keep their result.
      for (const container of stage.containers) if (container.status === 'UNEXEC') resetContainer(container);
      reopenStage(stage, false);
    }
    for (const later of build.stages.slice(from + 1)) {
      later.containers.forEach((c) => resetContainer(c));
      reopenStage(later, true);
    }
    this.#nextAttempt(build, userId, now);
    build.status = 'QUEUE';
    build.endTime = null;
    build.cancelUserId = null;
    build.queueTime = now;
    this.enqueue(build);
    return buildIdOf(build);
  }

  #checkFailed(build: BkBuild, target: Target): BkError | undefined {
    const stage = build.stages[target.stage] as StageRun;
    if (target.kind === 'stage') {
      return isRetryable(stage.status) ? undefined : { http: 400, code: BK_CODES.RETRY_NOT_FAILED, message: `stage[${stage.spec.id}]非失败状态，不能进行重试` };
    }
    if (target.kind === 'container') {
      const { container } = target;
      return isRetryable(container.status) ? undefined : { http: 400, code: BK_CODES.RETRY_NOT_FAILED, message: `job[${container.spec.hashId}]非失败状态，不能进行重试` };
    }
    const element = target.container.elements[target.element] as ElementRun;
    return isRetryable(element.status) ? undefined : { http: 400, code: BK_CODES.RETRY_NOT_FAILED, message: `插件[${element.spec.id}]非失败状态，不能进行重试` };
  }

  /** A failed step or job inside a still-running stage may be re-run (or skipped) without stopping the build. */
  #runningRetry(build: BkBuild, target: Target | undefined, request: RetryRequest, userId: string, now: number): BuildIdJson | BkError {
    const refused: BkError = { http: 400, code: BK_CODES.DUPLICATE_BUILD_RETRY, message: '当前构建正在运行中，请勿重复提交重试请求' };
    if (!target || target.kind === 'stage' || build.status !== 'RUNNING') return refused;
    const stage = build.stages[target.stage] as StageRun;
    if (stage.status !== 'RUNNING' || !isRetryable(target.container.status)) return refused;
    if (target.kind === 'element' && !isRetryable((target.container.elements[target.element] as ElementRun).status)) return refused;
    if (request.skip) skipFailed(target.container);
    else resetContainer(target.container, target.kind === 'element' ? target.element : 0);
    this.#nextAttempt(build, userId, now);
    return buildIdOf(build);
  }

  #nextAttempt(build: BkBuild, userId: string, now: number): void {
    build.executeCount++;
    // Everything the retry re-opened belongs to the new attempt, even a step a new failure never reaches.
    for (const stage of build.stages) {
      for (const container of stage.containers) {
        if (container.status === 'QUEUE') container.executeCount = build.executeCount;
        for (const element of container.elements) if (element.status === 'QUEUE') element.executeCount = build.executeCount;
      }
    }
    build.retry = true;
    build.userId = userId;
    build.updateTime = now;
    build.failAt = this.planFailure(build);
  }
}
