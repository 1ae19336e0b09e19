/**
 * CLI entry: configuration → gateway. With no upstream configured, starts the embedded GitLab
 * simulator on a free loopback port and fronts it, so `npm start` works on a fresh machine.
 */
import { ConfigError, HELP, type GatewayConfig, loadConfig } from './config.js';
import { startGateway } from './server.js';
import { type Simulator, startSimulator } from './simulator/index.js';

/** The simulator token the embedded upstream uses when a client sends none (it may run mutations). */
export const EMBEDDED_SERVICE_TOKEN = 'glpat-developer';

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
    config = {
      ...config,
      upstreams: [
        {
          name: 'gitlab',
          kind: 'gitlab-v4',
          baseUrl: `${simulator.url}/api/v4`,
          token: EMBEDDED_SERVICE_TOKEN,
          tokenHeader: 'PRIVATE-TOKEN',
          forwardClientCredential: true,
          connections: 32,
          concurrency: 16,
          headersTimeoutMs: 15_000,
          bodyTimeoutMs: 30_000,
          connectTimeoutMs: 5_000,
          exampleProject: '1',
        },
      ],
    };
    process.stdout.write(`buildgate: embedded GitLab simulator at ${simulator.url}/api/v4\n`);
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
