/**
 * CLI entry: configuration → gateway. With no upstream configured, starts the embedded upstream
 * stand-in (GitLab v4 and v3, bk-ci) on a free loopback port and fronts it, so `npm start` works on a
 * fresh machine.
 */
import { ConfigError, HELP, type GatewayConfig, loadConfig, parseConfig } from './config.js';

/** The stand-in's package is loaded only when it is needed, so a configured gateway never loads it. */
async function startStandIn() {
  const { startEmbedded } = await import('@buildgate/simulator');
  return startEmbedded();
}

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

  // The gateway's modules (most of the start-up time) load while the stand-in loads and starts, rather
  // than after it; `--help` and a bad configuration load neither.
  const standInStarting = config.upstreams.length === 0 ? startStandIn() : undefined;
  // Its failure is reported where it is awaited below, not as an unhandled rejection meanwhile.
  standInStarting?.catch(() => {});
  const { startGateway } = await import('./server.js');
  let standIn: { close(): Promise<void> } | undefined;
  if (standInStarting) {
    const embedded = await standInStarting;
    standIn = embedded;
    config = parseConfig({ ...config, upstreams: embedded.upstreams });
    process.stdout.write(`buildgate: ${embedded.banner}\n`);
  }

  const gateway = await startGateway(config);
  process.stdout.write(`buildgate: GraphQL and GraphiQL at ${gateway.url}\n`);
  for (const { config: upstream } of gateway.registry.list()) {
    process.stdout.write(`buildgate: upstream "${upstream.name}" (${upstream.kind}) → ${upstream.baseUrl}\n`);
  }

  const shutdown = (signal: string) => {
    process.stdout.write(`buildgate: ${signal}, shutting down\n`);
    const timer = setTimeout(() => process.exit(1), 10_000).unref();
    void Promise.all([gateway.close(), standIn?.close()]).then(() => {
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
