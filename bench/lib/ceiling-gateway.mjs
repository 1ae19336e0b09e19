/**
 * The ceiling's process: the gateway from `dist/`, started as `dist/main.js` would start it (same flags,
 * same config), except that every gitlab-v4 upstream's HTTP client sends its requests to a constant
 * dispatcher (constant-dispatcher.mjs) instead of a connection pool. Prints the line `procs.mjs` waits for.
 */
import { ConfigError, loadConfig } from '../../dist/config.js';
import { startGateway } from '../../dist/server.js';
import { constantDispatcher } from './constant-dispatcher.mjs';

let config;
try {
  ({ config } = loadConfig(process.argv.slice(2), process.env));
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`ceiling: ${error.message}\n`);
  process.exit(2);
}
const dispatchers = Object.fromEntries(
  config.upstreams.filter((upstream) => upstream.kind === 'gitlab-v4').map((upstream) => [upstream.name, constantDispatcher(upstream.baseUrl)]),
);
const gateway = await startGateway(config, { dispatchers });
process.stdout.write(`buildgate: GraphQL and GraphiQL at ${gateway.url}\n`);

const shutdown = () => {
  const timer = setTimeout(() => process.exit(1), 10_000).unref();
  void Promise.all([gateway.close(), ...Object.values(dispatchers).map((dispatcher) => dispatcher.close())]).then(() => {
    clearTimeout(timer);
    process.exit(0);
  });
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
