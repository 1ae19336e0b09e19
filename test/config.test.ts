/**
 * One validated configuration from file, environment and flags, with a clear message for every mistake.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, HELP, OPTIONS, loadConfig, parseConfig } from '../src/config.js';

const file = (name: string, text: string) => {
  const path = join(mkdtempSync(join(tmpdir(), 'buildgate-config-')), name);
  writeFileSync(path, text);
  return path;
};

describe('configuration', () => {
  it('reads YAML and JSON files, then environment variables, then flags, in rising precedence', () => {
    const yaml = file('c.yaml', 'port: 1000\ntrace:\n  pollIntervalMs: 700\nupstreams:\n  - name: gl\n    kind: gitlab-v4\n    baseUrl: https://gitlab.example.com/api/v4\n');
    const { config } = loadConfig(['--config', yaml], {});
    expect(config.port).toBe(1000);
    expect(config.trace.pollIntervalMs).toBe(700);
    expect(config.upstreams[0]).toMatchObject({ name: 'gl', tokenHeader: 'PRIVATE-TOKEN', keyset: true, retries: 2 });
    const env = { BUILDGATE_PORT: '2000', BUILDGATE_TRACE_POLL_INTERVAL_MS: '900', BUILDGATE_CACHE_ENABLED: 'true', BUILDGATE_LOG_LEVEL: 'warn' };
    const fromEnv = loadConfig(['--config', yaml], env).config;
    expect(fromEnv).toMatchObject({ port: 2000, logLevel: 'warn', trace: { pollIntervalMs: 900 }, cache: { enabled: true } });
    expect(loadConfig(['--config', yaml, '--port', '3000'], env).config.port).toBe(3000);
    const json = file('c.json', JSON.stringify({ upstreams: [{ name: 'bk', kind: 'bkci-apigw', baseUrl: 'https://devops.example.com/ms/openapi/api/apigw/v3', token: 'ci-bot' }] }));
    expect(loadConfig(['--config', json], {}).config.upstreams[0]).toMatchObject({ kind: 'bkci-apigw', tokenHeader: 'X-DEVOPS-UID' });
  });

  it('names every bad field, from the file and from the environment', () => {
    const bad = file('bad.yaml', 'port: 99999\nlimits:\n  maxDepth: 0\nupstreams:\n  - name: "a b"\n    kind: gitlab-v9\n    baseUrl: ftp://x\n  - name: gl\n    kind: gitlab-v4\n    baseUrl: https://x/api/v4\n    legacy: true\n    tokenHeader: X-DEVOPS-UID\n');
    let message = '';
    try {
      loadConfig(['--config', bad], { BUILDGATE_TRACE_POLL_INTERVAL_MS: 'soon' });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    for (const path of ['port', 'limits.maxDepth', 'upstreams.0.name', 'upstreams.0.kind', 'upstreams.0.baseUrl', 'upstreams.1.legacy', 'upstreams.1.tokenHeader', 'trace.pollIntervalMs']) {
      expect(message).toContain(`${path}:`);
    }
  });

  it('refuses duplicate upstream names, unknown keys, and an unset token variable', () => {
    expect(() => parseConfig({ upstreams: [{ name: 'a', kind: 'gitlab-v4', baseUrl: 'https://x/api/v4' }, { name: 'a', kind: 'gitlab-v3', baseUrl: 'https://x/api/v3' }] })).toThrow(/duplicate upstream name "a"/);
    expect(() => parseConfig({ prot: 4000 })).toThrow(/prot/);
    expect(() => parseConfig({ upstreams: [{ name: 'a', kind: 'gitlab-v4', baseUrl: 'https://x/api/v4', tokenEnv: 'NOPE_TOKEN' }] }, {})).toThrow(/NOPE_TOKEN is not set/);
    expect(parseConfig({ upstreams: [{ name: 'a', kind: 'gitlab-v4', baseUrl: 'https://x/api/v4', tokenEnv: 'MY_TOKEN' }] }, { MY_TOKEN: 't' }).upstreams[0]!.token).toBe('t');
  });

  it('reads CORS origins and metric operation names as lists, and names a bad origin', () => {
    const { config } = loadConfig([], { BUILDGATE_CORS_ORIGINS: 'https://ci.example.com,http://localhost:3000', BUILDGATE_METRICS_OPERATION_NAMES: 'RecentBuilds,Tail' });
    expect(config.cors.origins).toEqual(['https://ci.example.com', 'http://localhost:3000']);
    expect(config.metrics.operationNames).toEqual(['RecentBuilds', 'Tail']);
    expect(parseConfig({}).cors.origins).toEqual([]);
    for (const origin of ['*', 'ci.example.com', 'https://ci.example.com/app', 'ftp://ci.example.com']) {
      expect(() => parseConfig({ cors: { origins: [origin] } }), origin).toThrow(/cors\.origins\.0: must be an origin/);
    }
    expect(() => parseConfig({ metrics: { operationNames: ['not a name'] } })).toThrow(/metrics\.operationNames\.0/);
  });

  it('takes the production default from the env loadConfig is given, not from the process (issue #13)', () => {
    const before = process.env.NODE_ENV;
    try {
      process.env.NODE_ENV = 'production';
      expect(loadConfig([], {}).config.production).toBe(false);
      expect(parseConfig({}).production).toBe(false);
      process.env.NODE_ENV = 'test';
      expect(loadConfig([], { NODE_ENV: 'production' }).config.production).toBe(true);
      expect(parseConfig({}, { NODE_ENV: 'production' }).production).toBe(true);
      // Set explicitly, it wins over NODE_ENV either way.
      expect(loadConfig([], { NODE_ENV: 'production', BUILDGATE_PRODUCTION: 'false' }).config.production).toBe(false);
      expect(parseConfig({ production: true }, {}).production).toBe(true);
    } finally {
      process.env.NODE_ENV = before;
    }
  });

  it('reads redis.* from BUILDGATE_REDIS_URL and friends, leaves Redis off without them, and refuses a URL that is not redis:// (issue #14)', () => {
    expect(loadConfig([], {}).config.redis.url).toBeUndefined();
    const { redis } = loadConfig([], { BUILDGATE_REDIS_URL: 'rediss://cache.internal:6380/2', BUILDGATE_REDIS_LEASE_MS: '800', BUILDGATE_REDIS_KEY_PREFIX: 'bg-prod:' }).config;
    expect(redis).toEqual({ url: 'rediss://cache.internal:6380/2', keyPrefix: 'bg-prod:', connectTimeoutMs: 2000, commandTimeoutMs: 1000, streamTtlMs: 300_000, leaseMs: 800 });
    expect(() => loadConfig([], { BUILDGATE_REDIS_URL: 'http://cache.internal:6379' })).toThrow(/redis\.url: must be a redis:\/\/ or rediss:\/\/ URL/);
    expect(() => loadConfig([], { BUILDGATE_REDIS_KEY_PREFIX: 'has space' })).toThrow(/redis\.keyPrefix/);
    const budget = file('budget.yaml', 'upstreams:\n  - name: gl\n    kind: gitlab-v4\n    baseUrl: https://x/api/v4\n    budgetPerMinute: 0\n');
    expect(() => loadConfig(['--config', budget], {})).toThrow(/upstreams\.0\.budgetPerMinute/);
  });

  it('lists every option with its environment variable in --help', () => {
    expect(OPTIONS.length).toBeGreaterThan(30);
    for (const option of OPTIONS) expect(HELP).toContain(option.path);
    expect(HELP).toContain('BUILDGATE_TRACE_POLL_INTERVAL_MS');
    expect(HELP).toContain('upstreams[].baseUrl');
  });
});
