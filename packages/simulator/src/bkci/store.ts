/**
 * The bk-ci store: projects, pipelines and builds of the simulated BlueKing CI, separate from the
 * GitLab store (it shares only the clock and the stats counter with it). It owns the indexes the
 * routes need (builds by id, each pipeline's builds by number) and the small `active` set the clock
 * walks, so a tick costs O(active builds), never O(all builds).
 */
import { Prng, hash32 } from '../prng.js';
import type { BkBuild, BkPipeline, BkProject, ContainerRun, Material, StageRun, StartType } from './model.js';

export interface BuildInit {
  readonly pipeline: BkPipeline;
  readonly userId: string;
  readonly trigger: StartType;
  readonly queueTime: number;
  readonly branch: string;
  readonly material: readonly Material[];
  readonly params: Readonly<Record<string, string>>;
  readonly buildMsg: string;
  readonly remark?: string | null;
}

/** The run state of a fresh attempt: every stage, job and step QUEUE (bk-ci's `initStatus`). */
export function freshStages(pipeline: BkPipeline): StageRun[] {
  return pipeline.stages.map((spec) => ({
    spec,
    status: 'QUEUE',
    startEpoch: null,
    elapsed: null,
    reviewed: false,
    containers: spec.containers.map(
      (c): ContainerRun => ({
        spec: c,
        status: 'QUEUE',
        executeCount: 1,
        startEpoch: null,
        elapsed: null,
        elements: c.elements.map((e) => ({ spec: e, status: 'QUEUE', executeCount: 1, startEpoch: null, elapsed: null, total: 0, emitted: 0, error: null })),
      }),
    ),
  }));
}

export class BkciStore {
  readonly projects = new Map<string, BkProject>();
  readonly builds = new Map<string, BkBuild>();
  /** Builds the clock advances: queued ones it will start and running ones. Parked builds stay out. */
  readonly active = new Set<BkBuild>();
  /** Build ids come from their own stream, so GitLab's generation never shifts them. */
  readonly #ids: Prng;
  #serial = 0;

  constructor(seed: number) {
    this.#ids = new Prng(hash32(seed, 0xb4c1));
  }

  addProject(projectId: string, name: string): BkProject {
    const project: BkProject = { projectId, name, pipelines: new Map() };
    this.projects.set(projectId, project);
    return project;
  }

  addPipeline(pipeline: BkPipeline): BkPipeline {
    const project = this.projects.get(pipeline.projectId);
    if (!project) throw new Error(`bk-ci project ${pipeline.projectId} does not exist`);
    project.pipelines.set(pipeline.pipelineId, pipeline);
    return pipeline;
  }

  pipeline(projectId: string, pipelineId: string): BkPipeline | undefined {
    return this.projects.get(projectId)?.pipelines.get(pipelineId);
  }

  /** A new QUEUE build with the next number of its pipeline; the caller decides whether the clock owns it. */
  createBuild(init: BuildInit): BkBuild {
    let id = `b-${this.#ids.hex(32)}`;
    while (this.builds.has(id)) id = `b-${this.#ids.hex(32)}`;
    const build: BkBuild = {
      id,
      serial: ++this.#serial,
      pipeline: init.pipeline,
      buildNum: init.pipeline.builds.length + 1,
      userId: init.userId,
      trigger: init.trigger,
      status: 'QUEUE',
      queueTime: init.queueTime,
      startTime: null,
      endTime: null,
      updateTime: init.queueTime,
      executeCount: 1,
      stages: freshStages(init.pipeline),
      branch: init.branch,
      material: init.material,
      params: init.params,
      buildMsg: init.buildMsg,
      remark: init.remark ?? null,
      cancelUserId: null,
      retry: false,
      failAt: null,
      waited: 0,
      log: [],
      nextLine: 1,
    };
    init.pipeline.builds.push(build);
    this.builds.set(id, build);
    return build;
  }

  runningCount(): number {
    let n = 0;
    for (const build of this.active) if (build.status === 'RUNNING') n++;
    return n;
  }
}
