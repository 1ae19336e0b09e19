/**
 * CLI entry: configuration → gateway. With no upstream configured, starts the embedded GitLab
 * simulator on a free loopback port and fronts it, so `npm start` works on a fresh machine.
 */
import { ConfigError, HELP, type GatewayConfig, loadConfig, parseConfig } from './config.js';
import { embeddedUpstreams } from './embedded.js';
import { startGateway } from './server.js';
import { type Simulator, startSimulator } from './simulator/index.js';

async function main(): Promise<void> {
  let config: GatewayConfig;
  let help: boolean;
  try {
    ({ config, help } = loadConfig(process.argv.slice(2), process.env));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`buildgate: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  if (help) {
    process.stdout.write(HELP);
    return;
  }

  let simulator: Simulator | undefined;
  if (config.upstreams.length === 0) {
    simulator = await startSimulator({ host: '127.0.0.1', port: 0 });
    config = parseConfig({ ...config, upstreams: embeddedUpstreams(simulator.url) });
    process.stdout.write(`buildgate: embedded simulator (GitLab, bk-ci) at ${simulator.url}\n`);
  }

  const gateway = await startGateway(config);
  process.stdout.write(`buildgate: GraphQL and GraphiQL at ${gateway.url}\n`);
  for (const { config: upstream } of gateway.registry.list()) {
    process.stdout.write(`buildgate: upstream "${upstream.name}" (${upstream.kind}) → ${upstream.baseUrl}\n`);
  }

  const shutdown = (signal: string) => {
    process.stdout.write(`buildgate: ${signal}, shutting down\n`);
    const timer = setTimeout(() => process.exit(1), 10_000).unref();
    void Promise.all([gateway.close(), simulator?.close()]).then(() => {
      clearTimeout(timer);
      process.exit(0);
    });
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`buildgate: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
