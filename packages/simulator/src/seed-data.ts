/**
 * Fixed tables the generator draws from: people, runners, the job templates of a pipeline, the named
 * tokens, and the facts of GitLab's documented example (doc/api/jobs.md) that must exist verbatim.
 */
import { createHash } from 'node:crypto';
import type { AccessLevel, Artifact } from './model.js';

export interface UserSeed {
  readonly id: number;
  readonly username: string;
  readonly name: string;
  readonly email: string;
  readonly createdAt: string;
  readonly admin?: boolean;
  readonly bio?: string;
  readonly location?: string;
  readonly organization?: string;
  readonly jobTitle?: string;
}

export const USER_SEEDS: readonly UserSeed[] = [
  { id: 1, username: 'root', name: 'Administrator', email: 'admin@example.com', createdAt: '2015-12-21T13:14:24.077Z', admin: true },
  { id: 2, username: 'alice', name: 'Alice Liddell', email: 'alice@example.com', createdAt: '2015-12-22T09:01:12.410Z', location: 'Oxford', organization: 'Foo', jobTitle: 'Backend engineer' },
  { id: 3, username: 'bob', name: 'Bob Kowalski', email: 'bob@example.com', createdAt: '2016-01-04T11:30:00.000Z', location: 'Kraków', organization: 'Foo', jobTitle: 'SRE' },
  { id: 4, username: 'carol', name: 'Carol Ng', email: 'carol@example.com', createdAt: '2016-02-17T16:45:31.902Z', bio: 'Frontend · tests · café ☕', organization: 'Foo', jobTitle: 'Frontend engineer' },
  { id: 5, username: 'reporter', name: 'Rita Reporter', email: 'reporter@example.com', createdAt: '2016-03-01T08:00:00.000Z', jobTitle: 'QA' },
  { id: 6, username: 'outsider', name: 'Otto Outsider', email: 'outsider@example.com', createdAt: '2016-05-09T12:12:12.120Z' },
];

/** Whose commits and pipelines fill the history. */
export const COMMITTERS = ['root', 'alice', 'bob', 'carol'] as const;

export function gravatarUrl(email: string): string {
  const hash = createHash('md5').update(email.trim().toLowerCase()).digest('hex');
  return `http://www.gravatar.com/avatar/${hash}?s=80&d=identicon`;
}

export interface TokenSpec {
  /** The user the token authenticates as. */
  readonly username: string;
  readonly admin: boolean;
  /** Membership per project id. */
  readonly access: Readonly<Record<number, AccessLevel>>;
  /** One line for the README. */
  readonly rights: string;
}

/**
 * The named tokens the simulator accepts (as `PRIVATE-TOKEN`, `Authorization: Bearer`, `?private_token=`
 * or `?access_token=`). Any other token is answered 401.
 */
export const SIMULATOR_TOKENS = {
  'glpat-root': {
    username: 'root',
    admin: true,
    access: {},
    rights: 'administrator: reads and acts (cancel/retry/erase/play) on every project',
  },
  'glpat-developer': {
    username: 'alice',
    admin: false,
    access: { 1: 'developer', 2: 'developer' },
    rights: 'developer on projects 1 and 2: reads, cancels, retries, erases and plays jobs',
  },
  'glpat-reporter': {
    username: 'reporter',
    admin: false,
    access: { 1: 'reporter', 2: 'reporter' },
    rights: 'reporter on projects 1 and 2: reads only (mutations answer 403)',
  },
  'glpat-outsider': {
    username: 'outsider',
    admin: false,
    access: {},
    rights: 'no membership: reads the public project 1 only (mutations 403, private project 2 404)',
  },
} as const satisfies Record<string, TokenSpec>;

export interface RunnerSeed {
  readonly id: number;
  readonly description: string;
  readonly isShared: boolean;
  readonly tags: readonly string[];
  readonly platform: string;
  readonly architecture: string;
}

/**
 * Their tags cover every job template's and the documented jobs' ('docker runner' + ubuntu18 / win10-2004 /
 * macos-10.15), so a retried documented job runs; only `gpu` fits no runner (a job that stays stuck).
 */
export const RUNNER_SEEDS: readonly RunnerSeed[] = [
  { id: 1, description: 'shared-runner-1 (docker, linux)', isShared: true, tags: ['docker', 'linux', 'docker runner', 'ubuntu18'], platform: 'linux', architecture: 'amd64' },
  { id: 2, description: 'shared-runner-2 (docker, linux)', isShared: true, tags: ['docker', 'linux'], platform: 'linux', architecture: 'amd64' },
  { id: 3, description: 'foo-arm-runner', isShared: false, tags: ['docker', 'linux', 'arm64'], platform: 'linux', architecture: 'arm64' },
  { id: 4, description: 'foo-macos-runner', isShared: false, tags: ['macos', 'docker runner', 'macos-10.15'], platform: 'darwin', architecture: 'arm64' },
  { id: 5, description: 'foo-windows-runner', isShared: false, tags: ['windows', 'docker runner', 'win10-2004'], platform: 'windows', architecture: 'amd64' },
];

export type ArtifactKind = 'build' | 'test' | null;

export interface JobTemplate {
  readonly name: string;
  readonly stage: string;
  readonly stageIdx: number;
  readonly kind: 'build' | 'bridge';
  readonly when: 'on_success' | 'manual' | 'delayed';
  readonly allowFailure: boolean;
  /** Always part of a pipeline (the rest are drawn to reach its size). */
  readonly mandatory: boolean;
  readonly artifacts: ArtifactKind;
  readonly coverage: boolean;
  readonly tags: readonly string[];
  /** The command the log shows in its step_script section. */
  readonly script: string;
}

export const STAGES = ['build', 'test', 'deploy'] as const;

function template(
  name: string,
  stage: (typeof STAGES)[number],
  script: string,
  extra: Partial<Omit<JobTemplate, 'name' | 'stage' | 'stageIdx' | 'script'>> = {},
): JobTemplate {
  return {
    name,
    stage,
    stageIdx: STAGES.indexOf(stage),
    kind: 'build',
    when: 'on_success',
    allowFailure: false,
    mandatory: false,
    artifacts: null,
    coverage: false,
    tags: ['docker', 'linux'],
    script,
    ...extra,
  };
}

/** In pipeline order: a pipeline's jobs are created (and numbered) in this order. */
export const JOB_TEMPLATES: readonly JobTemplate[] = [
  template('compile', 'build', 'make compile', { mandatory: true, artifacts: 'build' }),
  template('assets:precompile', 'build', 'bundle exec rake assets:precompile', { artifacts: 'build' }),
  template('rspec:unit', 'test', 'bundle exec rspec spec/unit', { mandatory: true, artifacts: 'test', coverage: true }),
  template('rspec:integration', 'test', 'bundle exec rspec spec/integration', { artifacts: 'test', coverage: true }),
  template('spinach', 'test', 'bundle exec spinach'),
  template('jest', 'test', 'yarn jest --ci', { artifacts: 'test' }),
  template('rspec:other', 'test', 'bundle exec rspec spec/other', { coverage: true }),
  template('teaspoon', 'test', 'bundle exec teaspoon', { artifacts: 'test' }),
  template('rubocop', 'test', 'bundle exec rubocop', { mandatory: true, tags: ['docker', 'linux', 'arm64'] }),
  template('lint', 'test', 'yarn lint', { allowFailure: true }),
  template('deploy:staging', 'deploy', './deploy.sh staging', { when: 'manual', allowFailure: true }),
  template('deploy:production', 'deploy', './deploy.sh production', { when: 'manual', allowFailure: true }),
];

/** Jobs only the hand-written pipelines use. */
export const EXTRA_TEMPLATES: readonly JobTemplate[] = [
  template('deploy:canary', 'deploy', './deploy.sh canary', { when: 'delayed', allowFailure: true }),
  template('deploy:approval', 'deploy', './request-approval.sh'),
  template('deploy:downstream', 'deploy', '', { kind: 'bridge', tags: [] }),
  template('build:gpu', 'test', 'make gpu-bench', { tags: ['gpu'] }),
];

const TEMPLATE_BY_NAME = new Map([...JOB_TEMPLATES, ...EXTRA_TEMPLATES].map((t) => [t.name, t]));

export function findTemplate(name: string): JobTemplate | undefined {
  return TEMPLATE_BY_NAME.get(name);
}

export function templateNamed(name: string): JobTemplate {
  const found = TEMPLATE_BY_NAME.get(name);
  if (!found) throw new Error(`no job template ${name}`);
  return found;
}

export const COMMIT_TITLES: readonly string[] = [
  'Fix flaky spec in rspec:integration',
  'Add pagination to the jobs list',
  'Bump rubocop to 1.60',
  'Refactor the runner registration',
  'Handle café names in the menu (UTF-8)',
  'Speed up asset compilation',
  'Update README → new install steps',
  'Remove dead code from the importer',
  'Retry network calls with backoff',
  'Use keyset pagination for exports',
  'Upgrade to Ruby 3.2',
  'Add ✓ marks to the status page',
  'Fix timezone handling in reports',
  'Extract the billing service',
  'Improve error messages for bad scopes',
  'Merge branch \'feature/login-form\' into \'master\'',
];

export const FEATURE_BRANCHES: readonly string[] = ['feature/login-form', 'fix/flaky-spec', 'feature/keyset-export', 'chore/bump-deps'];

/** GitLab's documented example (doc/api/jobs.md): pipeline 6, commit 0ff3ae19, jobs 6, 7 and 8. */
export const DOC_EXAMPLE = {
  pipelineId: 6,
  pipelineCreatedAt: '2015-12-24T15:50:16.123Z',
  pipelineUpdatedAt: '2015-12-24T18:00:44.432Z',
  sha: '0ff3ae198f8601a285adcf5c0fff204ee6fba5fd',
  commitTitle: 'Test the CI integration.',
  commitCreatedAt: '2015-12-24T15:51:14.000Z',
  jobs: [
    {
      id: 6,
      name: 'rspec:other',
      createdAt: '2015-12-24T15:51:21.727Z',
      startedAt: '2015-12-24T17:54:24.729Z',
      finishedAt: '2015-12-24T17:54:24.921Z',
      artifactsExpireAt: '2016-01-23T17:54:24.921Z',
      tagList: ['docker runner', 'win10-2004'],
      artifacts: [] as Artifact[],
    },
    {
      id: 7,
      name: 'teaspoon',
      createdAt: '2015-12-24T15:51:21.802Z',
      startedAt: '2015-12-24T17:54:27.722Z',
      finishedAt: '2015-12-24T17:54:27.895Z',
      artifactsExpireAt: '2016-01-23T17:54:27.895Z',
      tagList: ['docker runner', 'ubuntu18'],
      artifacts: [
        { fileType: 'archive', size: 1000, filename: 'artifacts.zip', fileFormat: 'zip' },
        { fileType: 'metadata', size: 186, filename: 'metadata.gz', fileFormat: 'gzip' },
        { fileType: 'trace', size: 1500, filename: 'job.log', fileFormat: 'raw' },
        { fileType: 'junit', size: 750, filename: 'junit.xml.gz', fileFormat: 'gzip' },
      ] as Artifact[],
    },
    {
      id: 8,
      name: 'rubocop',
      createdAt: '2015-12-24T15:51:21.880Z',
      startedAt: '2015-12-24T17:54:30.733Z',
      finishedAt: '2015-12-24T17:54:31.198Z',
      artifactsExpireAt: '2016-01-23T17:54:31.198Z',
      tagList: ['docker runner', 'macos-10.15'],
      artifacts: [] as Artifact[],
    },
  ],
  /** Jobs 1–5 of pipeline 6 precede the documented ones; 9 and 10 follow. */
  before: ['compile', 'rspec:unit', 'rspec:integration', 'spinach', 'jest'],
  after: ['lint', 'deploy:staging'],
} as const;
