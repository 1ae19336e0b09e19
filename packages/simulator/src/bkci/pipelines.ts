/**
 * The pipelines of the simulated bk-ci project `demo`, written as data: stages of parallel jobs of
 * sequential steps, each step with how much log it writes. Ids (`s-`, `c-`, `e-` + 32 hex) come from
 * one PRNG stream per pipeline, so they are the same for every run with the same seed and every build
 * of a pipeline shares them, as builds of one bk-ci model version do.
 */
import { Prng, hash32 } from '../prng.js';
import type { BkPipeline, ContainerSpec, ElementSpec, StageSpec, StartType } from './model.js';

export const PROJECT_ID = 'demo';
export const PROJECT_NAME = '示例项目 Demo';

type StepTemplate = Omit<ElementSpec, 'id'>;

interface JobTemplate {
  readonly name: string;
  readonly baseOS?: ContainerSpec['baseOS'];
  readonly steps: readonly StepTemplate[];
}

interface StageTemplate {
  readonly name: string;
  readonly review?: boolean;
  readonly jobs: readonly JobTemplate[];
}

export interface PipelineTemplate {
  readonly pipelineId: string;
  readonly name: string;
  readonly desc: string;
  readonly creator: string;
  readonly trigger: StartType;
  readonly repo: BkPipeline['repo'];
  /** Branches its builds use, the first one most often. */
  readonly branches: readonly string[];
  readonly stages: readonly StageTemplate[];
}

const checkout = (): StepTemplate => ({
  name: '拉取代码 Checkout',
  atomCode: 'checkout',
  classType: 'marketBuild',
  version: '1.*',
  script: null,
  lines: [4, 7],
  perTick: 4,
  onlyOnBranch: null,
  canFail: false,
});

function script(name: string, command: string, lines: readonly [number, number], perTick: number, canFail = true): StepTemplate {
  return { name, atomCode: 'linuxScript', classType: 'linuxScript', version: '1.*', script: command, lines, perTick, onlyOnBranch: null, canFail };
}

function upload(name: string, onlyOnBranch: string | null = null): StepTemplate {
  return { name, atomCode: 'uploadArtifact', classType: 'marketBuild', version: '2.*', script: null, lines: [2, 4], perTick: 3, onlyOnBranch, canFail: false };
}

const REPO = { alias: 'buildgate', url: 'https://git.example.com/demo/buildgate.git' } as const;

export const PIPELINE_TEMPLATES: readonly PipelineTemplate[] = [
  {
    pipelineId: 'p-demo',
    name: 'demo-pipeline',
    desc: '示例流水线：构建、测试、部署',
    creator: 'alice',
    trigger: 'MANUAL',
    repo: REPO,
    branches: ['master', 'master', 'master', 'feature/log-paging', 'bugfix/retry-count'],
    stages: [
      { name: '构建 Build', jobs: [{ name: 'Linux 构建', steps: [checkout(), script('编译 Compile', 'make build', [4, 8], 3), upload('归档构件', 'master')] }] },
      {
        name: '测试 Test',
        jobs: [
          { name: '单元测试 Unit', steps: [checkout(), script('单元测试', 'make test-unit', [5, 10], 3)] },
          { name: '集成测试 Integration', steps: [checkout(), script('集成测试', 'make test-it', [6, 12], 3), script('覆盖率报告', 'make coverage', [3, 5], 3, false)] },
        ],
      },
      { name: '部署 Deploy', jobs: [{ name: '部署测试环境', steps: [script('部署到测试环境', './deploy.sh staging', [3, 6], 3), script('冒烟测试 Smoke', 'make smoke', [3, 6], 3)] }] },
    ],
  },
  {
    pipelineId: 'p-web',
    name: 'web-frontend',
    desc: 'Web 前端：lint、构建与端到端测试',
    creator: 'alice',
    trigger: 'WEB_HOOK',
    repo: { alias: 'buildgate-web', url: 'https://git.example.com/demo/buildgate-web.git' },
    branches: ['master', 'master', 'feature/dark-mode'],
    stages: [
      { name: 'Build', jobs: [{ name: 'Node 构建', steps: [checkout(), script('npm ci', 'npm ci', [4, 8], 4, false), script('npm run build', 'npm run build', [4, 8], 4)] }] },
      {
        name: 'Test',
        jobs: [
          { name: 'Lint', steps: [checkout(), script('eslint', 'npm run lint', [3, 6], 3)] },
          { name: 'E2E (Chrome)', steps: [checkout(), script('Playwright e2e', 'npx playwright test', [6, 12], 4), upload('上传测试报告', 'master')] },
        ],
      },
    ],
  },
  {
    pipelineId: 'p-nightly',
    name: 'nightly-full-test',
    desc: '夜间全量测试 (Linux / macOS / Windows)，日志很长',
    creator: 'admin',
    trigger: 'TIME_TRIGGER',
    repo: REPO,
    branches: ['master'],
    stages: [
      { name: '准备 Prepare', jobs: [{ name: '环境准备', steps: [checkout(), script('依赖安装', './ci/bootstrap.sh', [20, 40], 20, false)] }] },
      {
        name: '全量测试 Full tests',
        jobs: [
          { name: 'Linux 全量测试', steps: [checkout(), script('全量测试 (Linux)', 'make test-all', [200, 300], 40)] },
          { name: 'macOS 全量测试', baseOS: 'MACOS', steps: [checkout(), script('全量测试 (macOS)', 'make test-all', [200, 300], 40)] },
          { name: 'Windows 冒烟', baseOS: 'WINDOWS', steps: [checkout(), script('冒烟测试 (Windows)', 'make smoke', [40, 80], 30)] },
        ],
      },
      { name: '报告 Report', jobs: [{ name: '汇总', steps: [script('汇总报告', 'make report', [10, 20], 10, false), upload('归档测试报告')] }] },
    ],
  },
  {
    pipelineId: 'p-release',
    name: 'release-pipeline',
    desc: '发布流水线：打包后人工审批，再发布到生产环境',
    creator: 'admin',
    trigger: 'MANUAL',
    repo: REPO,
    branches: ['release/1.4'],
    stages: [
      { name: '构建 Build', jobs: [{ name: '打包', steps: [checkout(), script('打包 Package', 'make package', [4, 8], 4), upload('归档安装包')] }] },
      {
        name: '发布 Release',
        review: true,
        jobs: [{ name: '发布到生产环境', steps: [script('发布 Deploy', './deploy.sh production', [4, 8], 3), script('健康检查', './ci/healthcheck.sh', [3, 5], 3, false)] }],
      },
    ],
  },
];

/** The pipeline's model with ids drawn from its own stream. */
export function buildPipeline(seed: number, index: number, template: PipelineTemplate, createTime: number): BkPipeline {
  const ids = new Prng(hash32(seed, 0xb4c2, index));
  let seq = 0;
  const stages = template.stages.map(
    (stage): StageSpec => ({
      id: `s-${ids.hex(32)}`,
      name: stage.name,
      review: stage.review ?? false,
      containers: stage.jobs.map(
        (job): ContainerSpec => ({
          seq: String(++seq),
          hashId: `c-${ids.hex(32)}`,
          name: job.name,
          baseOS: job.baseOS ?? 'LINUX',
          elements: job.steps.map((step) => ({ ...step, id: `e-${ids.hex(32)}` })),
        }),
      ),
    }),
  );
  return {
    projectId: PROJECT_ID,
    pipelineId: template.pipelineId,
    name: template.name,
    desc: template.desc,
    creator: template.creator,
    createTime,
    deploymentTime: createTime + 3_600_000,
    version: 3 + index,
    repo: template.repo,
    stages,
    builds: [],
  };
}
