/**
 * The compiled CLI (`dist/main.js`) as a child process, as `npm start` runs it: its output collected, and
 * a wait for a line of it that fails as soon as the process exits without printing it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

export const MAIN = join(import.meta.dirname, '..', '..', 'dist', 'main.js');

export interface CliProcess {
  child: ChildProcess;
  exited: Promise<[number | null, string | null]>;
  out(): string;
  err(): string;
}

export interface CliOptions {
  /** The whole environment. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Node's own flags before the script (e.g. `--import` of a module hook). */
  nodeArgs?: readonly string[];
  /** The script to run. @default MAIN (`npm start` runs it through scripts/start.mjs) */
  script?: string;
}

export function runCli(args: readonly string[], options: CliOptions = {}): CliProcess {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.script ?? MAIN, ...args], {
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  return { child, exited, out: () => stdout, err: () => stderr };
}

/** The first match of `pattern` in what `get` returns, waiting for more output; throws once the child exits without it. */
export async function waitForLine(get: () => string, pattern: RegExp, child: ChildProcess): Promise<RegExpMatchArray> {
  for (;;) {
    const match = get().match(pattern);
    if (match) return match;
    if (child.exitCode !== null) throw new Error(`exited early: ${get()}`);
    await Promise.race([once(child.stdout!, 'data'), once(child, 'exit')]);
  }
}
