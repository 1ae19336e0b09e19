/**
 * CLI (`npm run simulator -- --port 4010` from the repository root): `node dist/main.js --port 4010
 * [--host H] [--seed N] [--builds N] [--tick-ms N] [--job-ticks N] [--pending-ticks N]
 * [--v3-commit-shape repo-commit|ci-commit] [--trace-range] [--fault <json>]…` (cli.ts), where each
 * `--fault` is one fault rule or an array of them (options.ts `faults`), e.g.
 * `--fault '{"route":"GET /api/v4/projects/:id/jobs","mode":"status","status":502}'`.
 * Closes cleanly on SIGINT/SIGTERM.
 */
import { USAGE, parseCli } from './cli.js';
import { startSimulator } from './index.js';
import type { SimulatorOptions } from './index.js';

function usage(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

let options: SimulatorOptions;
try {
  options = parseCli(process.argv.slice(2));
} catch (error) {
  usage((error as Error).message);
}
const simulator = await startSimulator(options).catch((error: Error) => usage(error.message));
process.stdout.write(`buildgate simulator listening on ${simulator.url} (GitLab v4 at /api/v4, v3 at /api/v3)\n`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void simulator.close().then(() => process.exit(0));
  });
}
