/**
 * Fills a store from the seed: people, runners, tokens, the public project `foo/bar` (id 1) and the
 * private `acme/private` (id 2). Job ids follow creation, as in GitLab: project 1's jobs come first
 * (1…), so the documented jobs 6, 7, 8 sit in its first pipeline (id 6); project 2's pipelines are
 * ids 1–5 but were filled last, so its job ids follow project 1's.
 */
import type { BuildContext, Plan } from './factory.js';
import { materialize, newCommit } from './factory.js';
import { FIXTURE_BUILDS, docPipeline, livePipelines, liveStart, parkedPipelines } from './fixtures.js';
import { finishHistory, generateHistory, planPipeline } from './history.js';
import type { Story } from './history.js';
import type { Lifecycle } from './lifecycle.js';
import type { AccessLevel, Namespace, Pipeline, Project, Visibility } from './model.js';
import type { ResolvedOptions } from './options.js';
import { Prng, hash32 } from './prng.js';
import { RUNNER_SEEDS, SIMULATOR_TOKENS, USER_SEEDS, gravatarUrl, templateNamed } from './seed-data.js';
import type { Store } from './store.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
/** History is spread over at most this window, however many builds are asked for. */
const HISTORY_END = Date.parse('2024-06-01T00:00:00.000Z');
const MAX_MEAN_GAP = 130 * MIN;

export function generate(store: Store, lifecycle: Lifecycle, options: ResolvedOptions, now: number): void {
  const ctx: BuildContext = { store, lifecycle, seed: options.seed, rng: new Prng(hash32(options.seed, 0x5eed)) };
  seedPeople(store);
  seedRunners(store);
  seedTokens(store);
  const foo = store.addProject(project(1, 'bar', 'Bar', { id: 11, name: 'foo', path: 'foo' }, 'public', 'master', 'The documented example project: CI jobs, pipelines and logs.'));
  const acme = store.addProject(project(2, 'private', 'Private', { id: 12, name: 'acme', path: 'acme' }, 'private', 'main', 'Deployment pipelines, visible to members only.'));

  const acmePipelines = acmeShells(ctx, acme);
  docPipeline(ctx, foo, now);
  const budget = options.builds - FIXTURE_BUILDS.doc - FIXTURE_BUILDS.parked - FIXTURE_BUILDS.live;
  const start = Date.parse('2015-12-24T18:00:00.000Z');
  const gapMs = Math.min(MAX_MEAN_GAP, (HISTORY_END - start) / Math.max(1, budget / 10));
  generateHistory(ctx, {
    project: foo,
    budget,
    start,
    gapMs,
    downstreams: acmePipelines.filter((p) => p.source === 'pipeline'),
    bridgeEvery: 5,
  }, now);
  parkedPipelines(ctx, foo, liveStart(options, now), now);
  livePipelines(ctx, foo, options, now);
  acmeJobs(ctx, acmePipelines, now);
  if (foo.builds.length !== options.builds) {
    throw new Error(`generated ${foo.builds.length} builds in project 1 instead of ${options.builds}: FIXTURE_BUILDS is stale`);
  }
}

function project(id: number, path: string, name: string, namespace: Namespace, visibility: Visibility, defaultBranch: string, description: string): Project {
  return {
    id,
    name,
    path,
    fullPath: `${namespace.path}/${path}`,
    description,
    namespace,
    visibility,
    defaultBranch,
    createdAt: Date.parse('2015-12-20T09:00:00.000Z') + id * HOUR,
    builds: [],
    pipelines: [],
    commits: new Map(),
    refHeads: new Map(),
  };
}

function seedPeople(store: Store): void {
  for (const seed of USER_SEEDS) {
    store.addUser({
      id: seed.id,
      username: seed.username,
      name: seed.name,
      email: seed.email,
      state: 'active',
      avatarUrl: gravatarUrl(seed.email),
      createdAt: Date.parse(seed.createdAt),
      bio: seed.bio ?? null,
      location: seed.location ?? null,
      organization: seed.organization ?? '',
      jobTitle: seed.jobTitle ?? '',
      admin: seed.admin ?? false,
    });
  }
}

function seedRunners(store: Store): void {
  for (const seed of RUNNER_SEEDS) {
    store.runners.push({
      id: seed.id,
      description: seed.description,
      name: 'gitlab-runner',
      ipAddress: `10.0.0.${10 + seed.id}`,
      isShared: seed.isShared,
      tags: seed.tags,
      manager: {
        id: 100 + seed.id,
        systemId: `s_${hash32(seed.id).toString(16).padStart(8, '0')}a1b2`,
        version: '16.11.1',
        revision: '535ced5f',
        platform: seed.platform,
        architecture: seed.architecture,
        createdAt: Date.parse('2015-12-21T10:00:00.000Z') + seed.id * HOUR,
        ipAddress: `10.0.0.${10 + seed.id}`,
      },
    });
  }
}

function seedTokens(store: Store): void {
  for (const [token, spec] of Object.entries(SIMULATOR_TOKENS)) {
    const access = new Map<number, AccessLevel>();
    for (const [projectId, level] of Object.entries(spec.access as Record<string, AccessLevel>)) access.set(Number(projectId), level);
    store.tokens.set(token, { token, user: store.userByName(spec.username), admin: spec.admin, access });
  }
}

const ACME_STORIES: readonly Story[] = ['passed', 'tests-failed', 'passed', 'passed', 'tests-failed'];
const ACME_JOBS = ['compile', 'rspec:unit', 'rubocop', 'lint', 'deploy:staging', 'deploy:production'].map(templateNamed);

/** Pipelines 1–5 (acme/private's), created before project 1's so they get the lowest ids. */
function acmeShells(ctx: BuildContext, acme: Project): Pipeline[] {
  const shells: Pipeline[] = [];
  for (let i = 0; i < ACME_STORIES.length; i++) {
    const at = Date.parse('2015-12-20T10:00:00.000Z') + i * 14 * HOUR;
    const author = ctx.store.userByName(i % 2 === 0 ? 'root' : 'alice');
    const commit = newCommit(ctx, { project: acme, ref: 'main', author, at: at - 10 * MIN });
    shells.push(ctx.store.createPipeline({
      id: i + 1,
      project: acme,
      commit,
      ref: 'main',
      tag: false,
      source: i < 2 ? 'push' : 'pipeline',
      user: author,
      createdAt: at,
    }));
  }
  return shells;
}

function acmeJobs(ctx: BuildContext, shells: readonly Pipeline[], now: number): void {
  shells.forEach((pipeline, i) => {
    const story = ACME_STORIES[i] ?? 'passed';
    const plans: Plan[] = planPipeline(ctx.rng, story, ACME_JOBS, pipeline.createdAt, null);
    materialize(ctx, pipeline, plans, now);
    finishHistory(pipeline);
  });
}
