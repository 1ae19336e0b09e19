/**
 * CLI: `node dist/simulator/main.js --port 4010 [--host H] [--seed N] [--builds N] [--tick-ms N]
 * [--job-ticks N] [--pending-ticks N] [--v3-commit-shape repo-commit|ci-commit] [--trace-range]`.
 * Closes cleanly on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startSimulator } from './index.js';
import type { SimulatorOptions, V3CommitShape } from './index.js';

const INTEGER_FLAGS = {
  port: 'port',
  seed: 'seed',
  builds: 'builds',
  'tick-ms': 'tickMs',
  'job-ticks': 'jobTicks',
  'pending-ticks': 'pendingTicks',
} as const satisfies Record<string, keyof SimulatorOptions>;

function usage(message: string): never {
  process.stderr.write(
    `${message}\nusage: simulator [--port N] [--host H] [--seed N] [--builds N] [--tick-ms N] [--job-ticks N] [--pending-ticks N] [--v3-commit-shape repo-commit|ci-commit] [--trace-range]\n`,
  );
  process.exit(2);
}

function parseOptions(argv: string[]): SimulatorOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        host: { type: 'string' },
        'v3-commit-shape': { type: 'string' },
        'trace-range': { type: 'boolean' },
        ...Object.fromEntries(Object.keys(INTEGER_FLAGS).map((flag) => [flag, { type: 'string' as const }])),
      },
    }) as { values: Record<string, string | boolean | undefined> });
  } catch (error) {
    usage((error as Error).message);
  }
  const options: SimulatorOptions = {};
  if (typeof values.host === 'string') options.host = values.host;
  // Checked by startSimulator, whose error names the option and the accepted values.
  if (typeof values['v3-commit-shape'] === 'string') options.v3CommitShape = values['v3-commit-shape'] as V3CommitShape;
  if (values['trace-range'] === true) options.traceRange = true;
  for (const [flag, key] of Object.entries(INTEGER_FLAGS)) {
    const raw = values[flag];
    if (typeof raw !== 'string') continue;
    if (!/^\d+$/.test(raw)) usage(`--${flag} must be a non-negative integer, got ${JSON.stringify(raw)}`);
    options[key] = Number(raw);
  }
  return options;
}

const simulator = await startSimulator(parseOptions(process.argv.slice(2))).catch((error: Error) => usage(error.message));
process.stdout.write(`buildgate simulator listening on ${simulator.url} (GitLab v4 at /api/v4, v3 at /api/v3)\n`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void simulator.close().then(() => process.exit(0));
  });
}
