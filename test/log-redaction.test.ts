/**
 * Credentials never reach the log (issue #12, 8d): URL redaction matches parameter names as the
 * upstream reads them (percent-decoded, any case, with brackets), on the gateway's own access log.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '@buildgate/simulator';
import { parseConfig } from '../src/config.js';
import { createLogger, redactUrl } from '../src/logger.js';
import { type Gateway, startGateway } from '../src/server.js';
import { until } from './helpers/subscribe.js';

/** Each form a client (or an attacker probing the logs) may spell a credential parameter in. */
const FORMS = [
  'private_token',
  'PRIVATE_TOKEN',
  'Private_Token',
  '%70rivate_token',
  'private%5Ftoken',
  'private%5ftoken',
  'private_token[]',
  'private_token%5B%5D',
  'private_token[x][y]',
  'access_token',
  'Access_Token',
  '%61ccess%5Ftoken',
  'job_token',
  'private%255Ftoken',
  'private_token+',
  ' private_token',
];

const secretFor = (i: number) => `glpat-secret-${i}-${'x'.repeat(8)}`;

let simulator: Simulator;
let gateway: Gateway;
const lines: string[] = [];

beforeAll(async () => {
  simulator = await startSimulator({ tickMs: 3_600_000 });
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  gateway = await startGateway(
    parseConfig({ port: 0, upstreams: [{ name: 'gitlab', kind: 'gitlab-v4', baseUrl: `${simulator.url}/api/v4` }] }),
    { logger: createLogger({ level: 'debug', destination: sink }) },
  );
});
afterAll(async () => {
  await gateway?.close();
  await simulator?.close();
});

describe('redactUrl', () => {
  it('redacts every spelling of a credential parameter and keeps the rest of the URL', () => {
    for (const [i, form] of FORMS.entries()) {
      const url = `/graphql?query=%7B%20upstreams%20%7B%20name%20%7D%20%7D&${form.replace(' ', '%20')}=${secretFor(i)}&page=2`;
      const redacted = redactUrl(url);
      expect(redacted, form).not.toContain(secretFor(i));
      expect(redacted, form).toBe(url.replace(secretFor(i), '[Redacted]'));
    }
  });

  it('leaves look-alike names, paths and URLs without a query alone', () => {
    expect(redactUrl('/graphql?private_tokens=1&my_access_token=2&token_private=3')).toBe('/graphql?private_tokens=1&my_access_token=2&token_private=3');
    expect(redactUrl('/graphql/private_token=1')).toBe('/graphql/private_token=1');
    expect(redactUrl('/graphql?a=1;private_token=s&b')).toBe('/graphql?a=1;private_token=[Redacted]&b');
    expect(redactUrl('/graphql?%zz=1&private_token=%zz')).toBe('/graphql?%zz=1&private_token=[Redacted]');
  });
});

describe('access log', () => {
  it('writes no credential from any spelling of the parameter, on refused and answered requests', async () => {
    const query = `query=${encodeURIComponent('{ upstreams { name } }')}`;
    for (const [i, form] of FORMS.entries()) {
      const name = form.replace(' ', '%20');
      // Refused (no CSRF header) and answered (with it): both are logged.
      for (const headers of [{}, { 'x-graphql-yoga-csrf': '1', 'x-request-id': `redact-${i}` }] as Array<Record<string, string>>) {
        await (await fetch(`${gateway.url}?${query}&${name}=${secretFor(i)}`, { headers })).text();
      }
      await (await fetch(`${gateway.url.replace('/graphql', '/nowhere')}?${name}=${secretFor(i)}`)).text();
    }
    await until(() => lines.some((line) => line.includes(`redact-${FORMS.length - 1}`)));
    const all = lines.join('\n');
    for (let i = 0; i < FORMS.length; i++) expect(all).not.toContain(secretFor(i));
    expect(all).toContain('%70rivate_token=[Redacted]');
    expect(all).toContain('private_token[]=[Redacted]');
  });
});
