import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

/**
 * End-to-end suites, run by `npm run test:e2e` after `npm run build` and `npm run examples:build`:
 * GraphiQL in Debian's Chromium against the compiled CLI (test/e2e/*.e2e.ts) and the compiled example
 * client against the simulator and gateway (examples/test/). `npm test` runs neither.
 */
export default defineConfig({
  resolve: {
    // As in vitest.config.ts: one graphql instance (the CJS build Node and yoga load), or
    // `instanceof GraphQLError` fails and coded errors are masked.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/e2e/**/*.e2e.ts', 'examples/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
