/**
 * The simulator's command line, parsed into SimulatorOptions without side effects, so a test can check
 * it without starting a process (main.ts runs it). Values are checked for form here (an integer, JSON);
 * what they mean is checked by startSimulator, whose error names the option and the accepted values.
 */
import { parseArgs } from 'node:util';
import type { FaultRule } from './faults.js';
import type { SimulatorOptions, V3CommitShape } from './options.js';

export const USAGE =
  'usage: simulator [--port N] [--host H] [--seed N] [--builds N] [--tick-ms N] [--job-ticks N] [--pending-ticks N] [--v3-commit-shape repo-commit|ci-commit] [--trace-range] [--fault <json>]...';

/** A command line that cannot be parsed; main.ts prints it with the usage and exits 2. */
export class CliUsageError extends Error {
  readonly code = 'SIM_CLI_USAGE';

  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}

const INTEGER_FLAGS = {
  port: 'port',
  seed: 'seed',
  builds: 'builds',
  'tick-ms': 'tickMs',
  'job-ticks': 'jobTicks',
  'pending-ticks': 'pendingTicks',
} as const satisfies Record<string, keyof SimulatorOptions>;

type Values = Record<string, string | boolean | string[] | undefined>;

/** The rules of every `--fault`, each one JSON rule or an array of rules, in order. */
function parseFaults(values: readonly string[]): FaultRule[] {
  return values.flatMap((raw) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new CliUsageError(`--fault must be a JSON fault rule or an array of them, got ${JSON.stringify(raw)}`);
    }
    return (Array.isArray(parsed) ? parsed : [parsed]) as FaultRule[];
  });
}

/** @throws CliUsageError for an unknown flag or a value of the wrong form */
export function parseCli(argv: readonly string[]): SimulatorOptions {
  let values: Values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        host: { type: 'string' },
        'v3-commit-shape': { type: 'string' },
        'trace-range': { type: 'boolean' },
        fault: { type: 'string', multiple: true },
        ...Object.fromEntries(Object.keys(INTEGER_FLAGS).map((flag) => [flag, { type: 'string' as const }])),
      },
    }) as { values: Values });
  } catch (error) {
    throw new CliUsageError((error as Error).message);
  }
  const options: SimulatorOptions = {};
  if (typeof values.host === 'string') options.host = values.host;
  if (typeof values['v3-commit-shape'] === 'string') options.v3CommitShape = values['v3-commit-shape'] as V3CommitShape;
  if (values['trace-range'] === true) options.traceRange = true;
  if (Array.isArray(values.fault)) options.faults = parseFaults(values.fault);
  for (const [flag, key] of Object.entries(INTEGER_FLAGS)) {
    const raw = values[flag];
    if (typeof raw !== 'string') continue;
    if (!/^\d+$/.test(raw)) throw new CliUsageError(`--${flag} must be a non-negative integer, got ${JSON.stringify(raw)}`);
    options[key] = Number(raw);
  }
  return options;
}
