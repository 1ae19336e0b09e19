/**
 * The bench's "ceiling": an undici dispatcher (a `MockAgent`) that answers a gitlab-v4 upstream from
 * constants, injected into the gateway's own HTTP client (`startGateway(config, { dispatchers })`), so the
 * same gateway, adapter, HTTP client and JSON parsing can be measured without the network round trip
 * and the upstream's work. Job reads answer GitLab's documented job 7 (the Jobs API example) under the
 * id asked for; list reads answer `per_page` copies of it under counting-down ids, with keyset paging's
 * `Link: rel="next"` (one constant cursor stands for every next page) or offset paging's `X-Next-Page`.
 * Anything else is GitLab's 404.
 */
import { MockAgent } from 'undici';

const USER = {
  id: 1,
  name: 'Administrator',
  username: 'root',
  state: 'active',
  avatar_url: 'http://www.gravatar.com/avatar/e64c7d89f26bd1972efa854d13d7dd61?s=80&d=identicon',
  web_url: 'http://gitlab.example.com/root',
};

const JOB = {
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

// The JSON text an upstream would send; the gateway parses it on every call, as it would a real answer.
const JOB_TEXT = JSON.stringify(JOB);

// GitLab's keyset cursor is base64 of the last id read; the constant one stands for every next page.
const NEXT_CURSOR = Buffer.from(JSON.stringify({ id: '99980', _kd: 'n' })).toString('base64url');

const NOT_FOUND = JSON.stringify({ message: '404 Not found' });

/** The JSON text of a job list: job 7 under `count` ids counting down from `firstId`. */
function jobsText(firstId, count) {
  return `[${Array.from({ length: count }, (_, i) => JOB_TEXT.replace('"id":7,', `"id":${firstId - i},`)).join(',')}]`;
}

function json(statusCode, text, headers = {}) {
  return {
    statusCode,
    data: text,
    responseOptions: { headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers } },
  };
}

/** The answer to one request below the API root (`path` with its query). */
export function constantAnswer(apiRoot, method, path) {
  const url = new URL(path, 'http://upstream');
  const route = url.pathname.slice(new URL(apiRoot).pathname.replace(/\/+$/, '').length);
  if (method !== 'GET') return json(404, NOT_FOUND);
  if (route === '' || route === '/') return json(200, '{}');
  const job = /^\/projects\/[^/]+\/jobs\/(\d{1,18})$/.exec(route);
  if (job) return json(200, JOB_TEXT.replace('"id":7,', `"id":${Number(job[1])},`));
  if (/^\/projects\/[^/]+\/jobs$/.test(route)) {
    const perPage = Math.min(100, Number(url.searchParams.get('per_page')) || 20);
    if (url.searchParams.get('pagination') === 'keyset') {
      const next = new URL(`${apiRoot.replace(/\/+$/, '')}${route}`);
      for (const [name, value] of url.searchParams) if (name !== 'cursor') next.searchParams.append(name, value);
      next.searchParams.set('cursor', NEXT_CURSOR);
      return json(200, jobsText(100_000, perPage), { link: `<${next}>; rel="next"` });
    }
    const page = Math.max(1, Number(url.searchParams.get('page')) || 1);
    return json(200, jobsText(100_000 - (page - 1) * perPage, perPage), {
      'x-page': String(page),
      'x-per-page': String(perPage),
      'x-next-page': String(page + 1),
      'x-prev-page': page > 1 ? String(page - 1) : '',
    });
  }
  return json(404, NOT_FOUND);
}

/** A dispatcher answering every request to `apiRoot`'s origin from constants; it never opens a socket. */
export function constantDispatcher(apiRoot) {
  const agent = new MockAgent();
  agent.disableNetConnect();
  agent
    .get(new URL(apiRoot).origin)
    .intercept({ path: () => true, method: () => true })
    .reply(({ method, path }) => constantAnswer(apiRoot, method, path))
    .persist();
  return agent;
}
