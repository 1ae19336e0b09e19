import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (`main`) and ESM (`module`) builds. Node, and so graphql-yoga, loads the CJS one;
    // Vite would pick the ESM one for our sources, and two graphql instances make `instanceof GraphQLError`
    // fail (our coded errors would be masked). Pin both to the file Node loads.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file starts its own simulator and gateway on free ports; files can run side by side.
    pool: 'forks',
  },
});
