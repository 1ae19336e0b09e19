/**
 * Gateway replicas as separate processes (the compiled CLI, as a deployment runs it), each with its own
 * configuration file, so a suite can SIGKILL one mid-stream. Each is closed (SIGTERM, then SIGKILL)
 * by `close()`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CliProcess, runCli, waitForLine } from './cli.js';

export interface Replica {
  /** http://127.0.0.1:PORT/graphql */
  url: string;
  process: CliProcess;
  /** SIGKILL: no shutdown, no SHUTTING_DOWN to its clients, its leases left to expire. */
  kill(): Promise<void>;
  close(): Promise<void>;
}

const folder = mkdtempSync(join(tmpdir(), 'buildgate-replicas-'));
let count = 0;

/** Starts `node dist/main.js --config FILE` with `config` (port 0 and host 127.0.0.1 unless given). */
export async function startReplica(config: Record<string, unknown>): Promise<Replica> {
  const file = join(folder, `replica-${++count}.json`);
  writeFileSync(file, JSON.stringify({ port: 0, host: '127.0.0.1', logLevel: 'warn', ...config }));
  const cli = runCli(['--config', file]);
  const [, url] = await waitForLine(cli.out, /GraphQL and GraphiQL at (\S+)/, cli.child);
  const stop = async (signal: NodeJS.Signals) => {
    if (cli.child.exitCode !== null || cli.child.signalCode !== null) return;
    cli.child.kill(signal);
    await cli.exited;
  };
  return {
    url: url!,
    process: cli,
    kill: () => stop('SIGKILL'),
    async close() {
      const timer = setTimeout(() => cli.child.kill('SIGKILL'), 5_000);
      await stop('SIGTERM');
      clearTimeout(timer);
    },
  };
}

/** `n` replicas with the same configuration. */
export function startReplicas(n: number, config: Record<string, unknown>): Promise<Replica[]> {
  return Promise.all(Array.from({ length: n }, () => startReplica(config)));
}
