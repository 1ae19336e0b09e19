/**
 * One validated configuration object from a file (JSON or YAML), environment variables and flags, in
 * rising order of precedence. Every mistake is reported with the path of the bad field.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { type OptionDoc, formatOptions, fromEnvironment, listOptions, merge } from './config-env.js';
import { KINDS, KIND_NAMES, TOKEN_HEADERS, kindsWith } from './upstreams/kinds/index.js';

/** `yaml` (72 modules) is loaded only when there is a file to read: a start without one skips it. */
const parseYaml = (text: string): unknown => (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text);

/** Each kind's `tokenHeader` values, as `--help` shows them; kinds that take the same are named together. */
function tokenHeaderHelp(): string {
  const byHelp = new Map<string, string[]>();
  for (const kind of KIND_NAMES) byHelp.set(KINDS[kind].tokenHeaderHelp, [...(byHelp.get(KINDS[kind].tokenHeaderHelp) ?? []), kind]);
  return [...byHelp].map(([help, kinds]) => `${kinds.join(', ')}: ${help}.`).join(' ');
}

const upstreamSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, 'must be letters, digits, "-" or "_" (at most 63)')
      .describe('The name clients use in `project(upstream: …)`.'),
    kind: z.enum(KIND_NAMES).describe('Which API the upstream speaks.'),
    baseUrl: z
      .url({ protocol: /^https?$/ })
      .describe('The API root, e.g. https://gitlab.example.com/api/v4 or https://devops.example.com/ms/openapi/api/apigw/v3'),
    token: z.string().min(1).optional().describe('A service credential used when the client sends none.'),
    tokenEnv: z.string().min(1).optional().describe('Name of an environment variable holding the service credential.'),
    tokenHeader: z
      .enum(TOKEN_HEADERS)
      .optional()
      .describe(`How the service credential is sent. ${tokenHeaderHelp()}`),
    keyset: z
      .boolean()
      .default(true)
      .describe("gitlab-v4: page a project's jobs with keyset pagination (GitLab 15.9+), fast at any depth."),
    legacy: z
      .boolean()
      .default(false)
      .describe('gitlab-v3 only: speak the early 8.x Builds API (scopes all/finished/running, /builds/commit/:sha).'),
    forwardClientCredential: z
      .boolean()
      .default(true)
      .describe("Whether the client's own PRIVATE-TOKEN / Authorization header is passed to this upstream."),
    connections: z.number().int().positive().default(32).describe('Most sockets open to the upstream at once.'),
    concurrency: z
      .number()
      .int()
      .positive()
      .default(16)
      .describe('Most upstream requests one GraphQL request may have in flight to this upstream.'),
    retries: z.number().int().min(0).max(10).default(2).describe('retries of a failed idempotent read (never of a mutation)'),
    breakerThreshold: z.number().int().min(1).default(5).describe('consecutive failures that open the circuit breaker'),
    breakerCooldownMs: z.number().int().min(1).default(5000).describe('ms the open breaker fails fast before probing'),
    headersTimeoutMs: z.number().int().positive().default(15_000),
    bodyTimeoutMs: z.number().int().positive().default(30_000),
    connectTimeoutMs: z.number().int().positive().default(5_000),
    exampleProject: z.string().min(1).default('1').describe('The project GraphiQL\'s preloaded query asks for.'),
    exampleBuild: z.string().min(1).optional().describe("A build (the upstream's own id) GraphiQL's mutation, failure and log search examples use."),
    exampleLiveBuild: z
      .string()
      .min(1)
      .optional()
      .describe("A running build (the upstream's own id) GraphiQL's Tail tab subscribes to; default exampleBuild"),
    budgetPerMinute: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe("most upstream requests one credential's operations may cause per minute, across every replica when redis.url is set; past it: RATE_LIMITED with retryAfter"),
  })
  .strict()
  .superRefine((upstream, ctx) => {
    const allowed: readonly string[] = KINDS[upstream.kind].tokenHeaders;
    if (upstream.tokenHeader && !allowed.includes(upstream.tokenHeader)) {
      ctx.addIssue({ code: 'custom', path: ['tokenHeader'], message: `must be one of ${allowed.join(', ')} for kind ${upstream.kind}` });
    }
    if (upstream.legacy && !KINDS[upstream.kind].settings.includes('legacy')) {
      ctx.addIssue({ code: 'custom', path: ['legacy'], message: `applies to kind ${kindsWith('legacy').join(', ')} only` });
    }
  })
  .transform((upstream) => ({
    ...upstream,
    tokenHeader: upstream.tokenHeader ?? KINDS[upstream.kind].tokenHeaders[0],
  }));

const traceSchema = z
  .object({
    pollIntervalMs: z.number().int().min(10).default(1000).describe('ms between two polls of a watched build while its log grows'),
    maxPollIntervalMs: z.number().int().min(10).default(10_000).describe('longest ms between polls while nothing changes'),
    recheckMs: z.number().int().min(10).default(30_000).describe("ms between two checks of one subscriber's credential"),
    tailBytes: z.number().int().min(1024).default(4 * 1024 * 1024).describe('log kept per watched build for subscribers to read'),
    slowSubscriberGraceMs: z.number().int().min(0).default(5000).describe('ms a subscriber may stay behind the tail (or hold a full tail as its fastest reader) before it gets TRACE_OVERFLOW and is dropped'),
  })
  .strict();

const cacheSchema = z
  .object({
    enabled: z.boolean().default(false).describe('serve finished GitLab builds and their logs again without an upstream request (per credential): from memory, or from Redis when redis.url is set'),
    maxEntries: z.number().int().min(1).default(10_000),
    maxBytes: z.number().int().min(1024).default(64 * 1024 * 1024),
    ttlMs: z.number().int().min(1).default(300_000),
    accessRecheckMs: z
      .number()
      .int()
      .min(1)
      .default(30_000)
      .describe("a cached build or log is served to a credential only while its access to the project was confirmed this recently"),
  })
  .strict();

/** Optional: with a URL, replicas share leases, log streams, the finished-build cache and budgets in Redis. */
const redisSchema = z
  .object({
    url: z
      .string()
      .regex(/^rediss?:\/\/[^\s]+$/, 'must be a redis:// or rediss:// URL')
      .optional()
      .describe('Redis shared by every replica (e.g. redis://127.0.0.1:6379/0); unset: one process, nothing shared'),
    keyPrefix: z
      .string()
      .regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'must be 1-64 letters, digits or ":_.-"')
      .default('buildgate:')
      .describe('prefix of every key the gateway writes, so several deployments can share one Redis'),
    connectTimeoutMs: z.number().int().min(10).default(2_000).describe('ms to connect to Redis before trying again'),
    commandTimeoutMs: z.number().int().min(10).default(1_000).describe('ms a Redis command may take before the gateway treats Redis as lost'),
    streamTtlMs: z
      .number()
      .int()
      .min(1_000)
      .default(300_000)
      .describe("ms a build's log stream is kept in Redis after its last poll"),
    leaseMs: z
      .number()
      .int()
      .min(10)
      .optional()
      .describe("ms a watched build's lease outlives its holder's last refresh (refreshed every third of it); default trace.pollIntervalMs, so another replica polls within two intervals of a holder's death"),
  })
  .strict();

/** Node's own HTTP server limits: a client that never finishes its request must not hold a socket. */
const serverSchema = z
  .object({
    headersTimeoutMs: z.number().int().min(100).default(10_000).describe('ms a client has to send its request headers'),
    requestTimeoutMs: z
      .number()
      .int()
      .min(100)
      .default(30_000)
      .describe('ms a client has to send its whole request (headers and body); streams answered after that are not cut'),
    keepAliveTimeoutMs: z.number().int().min(100).default(5_000).describe('ms an idle keep-alive connection stays open'),
    maxConnections: z.number().int().min(1).default(10_000).describe('most client connections (HTTP and WebSocket) open at once'),
    readyCacheMs: z.number().int().min(0).default(2_000).describe("ms `/ready` reuses its last upstream probe; 0 probes every time"),
  })
  .strict();

/** graphql-sse's single-connection mode: a `PUT /graphql/stream` reservation holds state until its stream opens. */
const sseSchema = z
  .object({
    reservationTtlMs: z.number().int().min(100).default(10_000).describe('ms a reservation waits for its event stream to open'),
    maxReservations: z.number().int().min(1).default(1_000).describe('reservations open at once, in all'),
    maxReservationsPerClient: z.number().int().min(1).default(10).describe('reservations open at once from one client address'),
    maxReservationQueueBytes: z
      .number()
      .int()
      .min(1024)
      .default(1024 * 1024)
      .describe('bytes of events a reservation may queue before its stream reads them; past it the operation ends'),
  })
  .strict();

/** As a browser sends it in `Origin`: scheme, host and port only. */
function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && value.replace(/\/$/, '') === url.origin;
  } catch {
    return false;
  }
}

const corsSchema = z
  .object({
    origins: z
      .array(z.string().min(1).refine(isOrigin, 'must be an origin: http(s)://host[:port], no path, no "*"'))
      .default([])
      .describe('origins (e.g. https://ci.example.com) allowed to call the gateway from a browser, with credentials; empty: no cross-origin access'),
  })
  .strict();

/** Prometheus labels come from bounded sets: a client-chosen operation name is a label only when listed. */
const metricsSchema = z
  .object({
    operationNames: z
      .array(z.string().regex(/^[_A-Za-z][_0-9A-Za-z]{0,127}$/, 'must be a GraphQL name'))
      .default([])
      .describe('operation names counted under their own `operation` label in /metrics; other named operations count as `other`, unnamed ones as `anonymous`'),
  })
  .strict();

/**
 * Persisted documents: Apollo's automatic persisted queries (a hash registered by the first request
 * that sends its text) and trusted documents (a fixed map of id → document, as graphql-codegen's
 * client-preset writes it with `persistedDocuments: true`).
 */
const persistedOperationsSchema = z
  .object({
    file: z
      .string()
      .min(1)
      .optional()
      .describe("trusted documents: a JSON map of id → document (client-preset's persisted-documents.json); clients send the id in extensions.persistedQuery.sha256Hash"),
    only: z
      .boolean()
      .default(false)
      .describe('refuse every document that is not in persistedOperations.file (PERSISTED_QUERY_ONLY), on every transport; APQ registration is off. Recommended with production'),
    apq: z.boolean().default(true).describe('automatic persisted queries (Apollo): a hash the gateway has not seen is answered PERSISTED_QUERY_NOT_FOUND, and the client sends the text with it once'),
    apqMaxEntries: z.number().int().min(1).default(1000).describe('most APQ documents kept (least recently used go first)'),
    apqMaxBytes: z
      .number()
      .int()
      .min(1024)
      .default(8 * 1024 * 1024)
      .describe('most bytes of APQ documents kept (counted as UTF-16, ids included); a larger document runs but is not kept'),
  })
  .strict()
  .superRefine((options, ctx) => {
    if (options.only && !options.file) ctx.addIssue({ code: 'custom', path: ['only'], message: 'needs persistedOperations.file: the documents that are allowed' });
  });

function limitsSchemaDefaults() {
  return {
    maxDepth: 12,
    maxAliases: 30,
    maxDirectives: 50,
    maxTokens: 2000,
    maxCost: 20_000,
    maxBodyBytes: 1024 * 1024,
    maxBatch: 0,
    maxUpstreamCalls: 250,
    maxUpstreamBytes: 32 * 1024 * 1024,
    maxWebSocketOperations: 100,
    maxSearchBytes: 256 * 1024 * 1024,
  };
}

const configSchema = z
  .object({
    port: z.number().int().min(0).max(65535).default(4000),
    host: z.string().min(1).default('127.0.0.1'),
    upstreams: z.array(upstreamSchema).default([]),
    graphiql: z.boolean().default(true),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    shutdownTimeoutMs: z.number().int().min(0).default(10_000).describe('ms graceful shutdown waits for in-flight requests'),
    // No schema default: it would read process.env once, when this module loads, whatever env
    // loadConfig is given. parseConfig fills it from its env.
    production: z
      .boolean()
      .optional()
      .describe('hide field suggestions (and never show internal error details); default: NODE_ENV=production'),
    limits: z
      .object({
        maxDepth: z.number().int().min(1).default(12),
        maxAliases: z.number().int().min(0).default(30),
        maxDirectives: z.number().int().min(0).default(50),
        maxTokens: z.number().int().min(10).default(2000),
        maxCost: z.number().int().min(1).default(20_000),
        maxBodyBytes: z.number().int().min(1024).default(1024 * 1024).describe('larger request bodies are refused with 413'),
        maxBatch: z.number().int().min(0).default(0).describe('operations in one batched request; 0 turns batching off'),
        maxUpstreamCalls: z
          .number()
          .int()
          .min(1)
          .default(250)
          .describe('upstream requests one operation (or one subscription event) may make; past it: UPSTREAM_BUDGET_EXCEEDED'),
        maxUpstreamBytes: z
          .number()
          .int()
          .min(1024)
          .default(32 * 1024 * 1024)
          .describe('upstream response bytes one operation (or one subscription event) may read; past it: UPSTREAM_BUDGET_EXCEEDED'),
        maxWebSocketOperations: z
          .number()
          .int()
          .min(1)
          .default(100)
          .describe('operations one WebSocket may have running at once; past it the socket closes with 4429'),
        maxSearchBytes: z
          .number()
          .int()
          .min(1024)
          .default(256 * 1024 * 1024)
          .describe('log bytes one Build.logSearch or Build.failure may scan; past it: truncated (the upstream byte budget still applies)'),
      })
      .strict()
      .default(limitsSchemaDefaults()),
    server: serverSchema.default(serverSchema.parse({})),
    sse: sseSchema.default(sseSchema.parse({})),
    cors: corsSchema.default(corsSchema.parse({})),
    metrics: metricsSchema.default(metricsSchema.parse({})),
    requestDeadlineMs: z
      .number()
      .int()
      .min(100)
      .default(20_000)
      .describe('ms within which every upstream call of one GraphQL request (retries included) must end'),
    trace: traceSchema.default(traceSchema.parse({})),
    cache: cacheSchema.default(cacheSchema.parse({})),
    redis: redisSchema.default(redisSchema.parse({})),
    persistedOperations: persistedOperationsSchema.default(persistedOperationsSchema.parse({})),
    /** Largest `first` a connection accepts; above the upstream's page size (100) a list reads several pages. */
    maxPageSize: z.number().int().min(1).max(1000).default(100),
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.upstreams.forEach((upstream, i) => {
      if (seen.has(upstream.name)) {
        ctx.addIssue({ code: 'custom', path: ['upstreams', i, 'name'], message: `duplicate upstream name "${upstream.name}"` });
      }
      seen.add(upstream.name);
    });
  });

export type UpstreamConfig = z.output<typeof upstreamSchema>;
export type GatewayConfig = Omit<z.output<typeof configSchema>, 'production'> & { production: boolean };
export type GatewayConfigInput = z.input<typeof configSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Every option of the file, with its environment variable, read off the schema. */
export const OPTIONS: readonly OptionDoc[] = listOptions(z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as never);

export const HELP = `Usage: buildgate [options]

Serves a GraphQL gateway (GraphiQL at /graphql) over CI upstreams. With no upstream configured it
starts an embedded upstream stand-in (GitLab v4 and v3, bk-ci) and fronts it.

Flags (over environment, over the file):
  --config <path>   configuration file, JSON or YAML        [BUILDGATE_CONFIG]
  --port <n>        port to listen on, 0 for a free one    [PORT or BUILDGATE_PORT]
  --host <addr>     address to listen on                   [HOST or BUILDGATE_HOST]
  --help            print this help

One upstream without a file:
  BUILDGATE_UPSTREAM_URL     API root, e.g. https://gitlab.example.com/api/v4
  BUILDGATE_UPSTREAM_NAME    its name (default "gitlab")
  BUILDGATE_UPSTREAM_KIND    its kind (default "gitlab-v4")
  BUILDGATE_UPSTREAM_TOKEN   service credential used when a client sends none

Every option (file path: type (default) [environment variable]):
${formatOptions(OPTIONS)}
`;

export interface LoadedConfig {
  config: GatewayConfig;
  help: boolean;
}

/** Flags over environment over file; throws ConfigError naming every bad field. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): LoadedConfig {
  let flags;
  try {
    flags = parseArgs({
      args: [...argv],
      options: {
        config: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}\n\n${HELP}`);
  }
  if (flags.help) return { config: parseConfig({}), help: true };

  const file = flags.config ?? env.BUILDGATE_CONFIG;
  const raw = merge(file ? readConfigFile(file) : {}, fromEnvironment(OPTIONS, env));
  if (env.BUILDGATE_UPSTREAM_URL) {
    raw.upstreams = [
      {
        name: env.BUILDGATE_UPSTREAM_NAME ?? 'gitlab',
        kind: env.BUILDGATE_UPSTREAM_KIND ?? 'gitlab-v4',
        baseUrl: env.BUILDGATE_UPSTREAM_URL,
        ...(env.BUILDGATE_UPSTREAM_TOKEN && { token: env.BUILDGATE_UPSTREAM_TOKEN }),
      },
    ];
  }
  const port = flags.port ?? env.PORT;
  if (port !== undefined) raw.port = toPort(port);
  const host = flags.host ?? env.HOST;
  if (host !== undefined) raw.host = host;
  return { config: parseConfig(raw, env), help: false };
}

/** `env` gives `tokenEnv` values and `production` when unset (NODE_ENV=production); no process-wide state is read. */
export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = {}): GatewayConfig {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const config = result.data;
  for (const upstream of config.upstreams) {
    if (upstream.tokenEnv && upstream.token === undefined) {
      const value = env[upstream.tokenEnv];
      if (!value) throw new ConfigError(`upstreams.${upstream.name}.tokenEnv: environment variable ${upstream.tokenEnv} is not set`);
      upstream.token = value;
    }
  }
  return { ...config, production: config.production ?? env.NODE_ENV === 'production' };
}

function toPort(value: string): number | string {
  return /^\d+$/.test(value) ? Number(value) : value;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is neither JSON nor YAML: ${(error as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path} must hold an object`);
  }
  return parsed as Record<string, unknown>;
}
