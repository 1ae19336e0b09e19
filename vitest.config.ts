import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

/**
 * `npm test` runs two projects: the gateway's suites (test/) and the simulator package's
 * (packages/simulator, with its own vitest.config.ts). `npx vitest run test/foo.test.ts` still runs one file.
 */
export default defineConfig({
  test: {
    projects: [
      'packages/simulator',
      {
        extends: true,
        resolve: {
          // graphql 16 ships CJS (`main`) and ESM (`module`) builds. Node, and so graphql-yoga, loads the CJS one;
          // Vite would pick the ESM one for our sources, and two graphql instances make `instanceof GraphQLError`
          // fail (our coded errors would be masked). Pin both to the file Node loads.
          alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
        },
        test: {
          name: 'gateway',
          include: ['test/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          // Each file starts its own simulator and gateway on free ports; files can run side by side.
          pool: 'forks',
        },
      },
    ],
  },
});
