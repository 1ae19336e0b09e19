/**
 * The benchmarks' "ceiling": a gitlab-v4 adapter whose HTTP calls are replaced by constant answers
 * (GitLab's documented job 7, JSON-parsed on every call; a page is that job under `first` ids), so the
 * same gateway can be measured with and without its upstream path. It pages like the real adapter (keyset
 * or offset, as configured): only the HTTP exchange is replaced. Enabled per upstream with
 * `constantUpstream: true`.
 */
import type { GitLabJob } from './gitlab-entities.js';
import { GitLabV4Upstream, type KeysetPage } from './gitlab-v4.js';
import type { OffsetPage } from './offset-paging.js';
import type { BuildModel } from '../model.js';
import type { CallContext } from './types.js';

const USER = {
  id: 1,
  name: 'Administrator',
  username: 'root',
  state: 'active',
  avatar_url: 'http://www.gravatar.com/avatar/e64c7d89f26bd1972efa854d13d7dd61?s=80&d=identicon',
  web_url: 'http://gitlab.example.com/root',
};

const JOB: GitLabJob = {
  id: 7,
  status: 'failed',
  stage: 'test',
  name: 'teaspoon',
  ref: 'master',
  tag: false,
  coverage: null,
  allow_failure: false,
  created_at: '2015-12-24T15:51:21.802Z',
  started_at: '2015-12-24T17:54:27.722Z',
  finished_at: '2015-12-24T17:54:27.895Z',
  erased_at: null,
  duration: 0.173,
  queued_duration: 0.01,
  failure_reason: 'script_failure',
  web_url: 'https://example.com/foo/bar/-/jobs/7',
  user: USER,
  commit: {
    id: '0ff3ae198f8601a285adcf5c0fff204ee6fba5fd',
    short_id: '0ff3ae19',
    title: 'Test the CI integration.',
    message: 'Test the CI integration.',
    author_name: 'Administrator',
    author_email: 'admin@example.com',
    authored_date: '2015-12-24T16:51:14.000+01:00',
    committer_name: 'Administrator',
    committer_email: 'admin@example.com',
    committed_date: '2015-12-24T16:51:14.000+01:00',
    created_at: '2015-12-24T16:51:14.000+01:00',
    web_url: 'https://example.com/foo/bar/-/commit/0ff3ae198f8601a285adcf5c0fff204ee6fba5fd',
  },
  pipeline: { id: 6, project_id: 1, sha: '0ff3ae198f8601a285adcf5c0fff204ee6fba5fd', ref: 'master', status: 'failed', web_url: 'https://example.com/foo/bar/-/pipelines/6' },
  runner: null,
  artifacts: [{ file_type: 'archive', size: 1000, filename: 'artifacts.zip', file_format: 'zip' }],
  artifacts_file: { filename: 'artifacts.zip', size: 1000 },
  artifacts_expire_at: '2016-01-23T17:54:27.895Z',
  tag_list: ['docker runner', 'ubuntu18'],
  archived: false,
};

// The JSON text an upstream would send; parsed on every call, as a real response would be.
const JOB_TEXT = JSON.stringify(JOB);

// GitLab's keyset cursor is base64 of the last id read; the constant one stands for every next page.
const NEXT_CURSOR = Buffer.from(JSON.stringify({ id: '99980', _kd: 'n' })).toString('base64url');

/** The JSON text of a job list: job 7 under `count` ids counting down from `firstId`. */
function jobsText(firstId: number, count: number): string {
  return `[${Array.from({ length: count }, (_, i) => JOB_TEXT.replace('"id":7,', `"id":${firstId - i},`)).join(',')}]`;
}

export class GitLabV4ConstantUpstream extends GitLabV4Upstream {
  protected override async jobRequest(_call: CallContext, _method: 'GET' | 'POST', path: string, projectId: string): Promise<BuildModel> {
    const job = JSON.parse(JOB_TEXT) as GitLabJob;
    job.id = Number(/\/(\d+)(?:\/[a-z]+)?$/.exec(path)?.[1] ?? job.id);
    return this.toBuild(projectId, job);
  }

  protected override async fetchKeysetPage(_call: CallContext, _path: string, _cursor: string, perPage: number): Promise<KeysetPage<GitLabJob>> {
    return { items: JSON.parse(jobsText(100_000, perPage)) as GitLabJob[], next: NEXT_CURSOR };
  }

  protected override async fetchJobs(_call: CallContext, _path: string, page: number, perPage: number): Promise<OffsetPage<GitLabJob>> {
    return { items: JSON.parse(jobsText(100_000 - (page - 1) * perPage, perPage)) as GitLabJob[], hasNext: true, total: null };
  }
}
