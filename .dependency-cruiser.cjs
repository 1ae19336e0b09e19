/**
 * The import rules of src/ (`npm run check:deps`, run before `npm test`): no cycles, and the layers
 * point one way — plugins → resolvers → loaders → upstreams → upstreams/http.ts — with trace/ beside
 * the loaders. model.ts, errors.ts and utf8.ts are the ground every layer stands on and import nothing
 * of ours. The simulator is its own package (packages/simulator), which only main.ts may load;
 * src/generated (codegen) is left out.
 */
const LEAVES = '^src/(model|errors|utf8)\\.ts$';

/** A rule that `from` never imports any of `to`. */
const never = (name, comment, from, to) => ({ name, comment, severity: 'error', from: { path: from }, to: { path: to } });

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A cycle ties modules together so that neither can be read, tested or loaded alone.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'leaves-import-nothing-of-ours',
      comment: 'The domain model, the public errors and the UTF-8 boundaries are shared by every layer and owned by none.',
      severity: 'error',
      from: { path: LEAVES },
      to: { path: '^src/' },
    },
    never(
      'upstreams-stay-below',
      'Adapters know HTTP and the domain model, nothing of the GraphQL side: not the trace hub, loaders, resolvers, plugins, transports, metrics, context or server.',
      '^src/upstreams/',
      '^src/(trace|loaders|resolvers|plugins|transports|http)/|^src/(metrics|server|context|schema|main|embedded)\\.ts$',
    ),
    never(
      'trace-beside-the-loaders',
      'The trace hub sits beside the loaders: it may use upstreams and the model, not loaders, resolvers, plugins, transports, metrics or the server.',
      '^src/trace/',
      '^src/(loaders|resolvers|plugins|transports|http)/|^src/(metrics|server|context|schema|main|embedded)\\.ts$',
    ),
    never(
      'loaders-below-resolvers',
      'Loaders batch upstream reads for resolvers; they never reach up into resolvers, plugins, transports or the server.',
      '^src/loaders/',
      '^src/(resolvers|plugins|transports|http|trace)/|^src/(metrics|server|schema|main|embedded)\\.ts$',
    ),
    never(
      'resolvers-below-plugins',
      'Resolvers map arguments and call loaders, the trace hub or adapters; plugins and the server wire them, not the other way round.',
      '^src/resolvers/',
      '^src/(plugins|transports|http)/|^src/(metrics|server|main|embedded)\\.ts$',
    ),
    {
      name: 'http-is-the-bottom',
      comment: 'upstreams/http.ts is the one file that speaks HTTP; it depends on no adapter, only on its policies and the shared ground.',
      severity: 'error',
      from: { path: '^src/upstreams/http\\.ts$' },
      to: { path: '^src/', pathNot: `${LEAVES}|^src/upstreams/(errors|routes|retry-policy|circuit-breaker|budget|types|http-request)\\.ts$` },
    },
    {
      name: 'simulator-only-from-main',
      comment: 'The embedded simulator is loaded by main.ts alone (a dynamic import when no upstream is configured): a production gateway never loads it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/main\\.ts$' },
      to: { path: '(^|/)(packages/simulator|node_modules/@buildgate/simulator)/' },
    },
    never(
      'redis-is-ground',
      'src/redis/ is the link to the shared Redis: every layer may use it, it uses nothing of ours but the shared ground.',
      '^src/redis/',
      '^src/(?!redis/|model\\.ts|errors\\.ts|utf8\\.ts)',
    ),
    {
      name: 'only-redis-imports-ioredis',
      comment: 'Connections, their options and their fallback live in src/redis/; the rest sees a RedisLink.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/redis/' },
      to: { path: '(^|/)node_modules/ioredis/' },
    },
    {
      name: 'only-http-imports-undici',
      comment: 'Pools, timeouts and undici errors stay in upstreams/http.ts (and its error classes); adapters never see undici.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/upstreams/(http|errors)\\.ts$' },
      to: { path: '(^|/)node_modules/undici/' },
    },
  ],
  options: {
    exclude: { path: '^src/generated/' },
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.json'] },
  },
};
