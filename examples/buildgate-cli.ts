#!/usr/bin/env node
/**
 * buildgate-cli: an example terminal client of buildgate, built on typed documents.
 *
 *   buildgate-cli failed --project 1 [--upstream gitlab] [--limit 20]
 *   buildgate-cli tail --id <global build id> [--offset N]
 *
 * Exit codes: 0 done (for `tail`: the build completed), 1 the gateway refused or could not be reached,
 * 2 bad usage, 130 interrupted (Ctrl-C; `tail` prints the offset to resume from).
 */
import { parseArgs } from 'node:util';
import { GraphQLRequestError, TransportError, createGatewayClient } from './src/client.js';
import { ProjectNotFoundError, failedBuilds, failedTable } from './src/failed.js';
import { DEFAULT_RETRIES, createProgress, tail } from './src/tail.js';

const NAME = 'buildgate-cli';
const DEFAULT_URL = 'http://127.0.0.1:4000/graphql';
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 10_000;

const HELP = `usage: ${NAME} <command> [options]

commands:
  failed   a project's failed builds, newest first: id, name, ref, failure reason, web URL
  tail     a build's log as it grows (ANSI colours kept), until the build completes

options for both:
  --url <url>          the gateway's GraphQL endpoint (env BUILDGATE_URL; default ${DEFAULT_URL})
  --token <token>      your GitLab token, sent as PRIVATE-TOKEN (env BUILDGATE_TOKEN)
  --header <h: value>  any other header, repeatable (e.g. "X-DEVOPS-UID: alice" for bk-ci)
  -h, --help           this text

failed:
  --project <id>       the upstream's project id or path (required), e.g. 1 or foo/bar
  --upstream <name>    a configured upstream (default gitlab)
  --limit <n>          at most this many builds (default ${DEFAULT_LIMIT})

tail:
  --id <id>            the build's global id (the ID column of \`failed\`, or Build.id) (required)
  --offset <n>         start here instead of 0: the offset an interrupted run printed
  --retries <n>        reconnects in a row before giving up (default ${DEFAULT_RETRIES})

On Ctrl-C, tail prints (on stderr) the offset to pass as --offset to carry on with nothing lost or
repeated. Exit codes: 0 done, 1 error from or reaching the gateway, 2 bad usage, 130 interrupted.
`;

class UsageError extends Error {}

function parse(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      header: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
      upstream: { type: 'string' },
      project: { type: 'string' },
      limit: { type: 'string' },
      id: { type: 'string' },
      offset: { type: 'string' },
      retries: { type: 'string' },
    },
  });
  return { values, positionals };
}

function integer(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < min || number > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(value)}`);
  }
  return number;
}

function headersFrom(token: string | undefined, extra: string[] = []): Record<string, string> {
  const headers: Record<string, string> = {};
  if (token) headers['PRIVATE-TOKEN'] = token;
  for (const header of extra) {
    const match = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(header);
    if (!match) throw new UsageError(`--header must look like "Name: value", not ${JSON.stringify(header)}`);
    headers[match[1]!] = match[2]!;
  }
  return headers;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv);
  const command = positionals[0];
  if (values.help || command === 'help' || command === undefined) {
    process.stdout.write(HELP);
    return command === undefined && !values.help ? 2 : 0;
  }
  if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}`);
  const url = values.url ?? (process.env.BUILDGATE_URL || DEFAULT_URL);
  try {
    new URL(url);
  } catch {
    throw new UsageError(`--url is not a URL: ${JSON.stringify(url)}`);
  }
  const client = createGatewayClient({ url, headers: headersFrom(values.token ?? (process.env.BUILDGATE_TOKEN || undefined), values.header) });

  try {
    switch (command) {
      case 'failed': {
        if (!values.project) throw new UsageError('failed needs --project <id or path>');
        const limit = integer('limit', values.limit, DEFAULT_LIMIT, 1, MAX_LIMIT);
        const builds = await failedBuilds(client, values.upstream ?? 'gitlab', values.project, limit);
        if (builds.length === 0) process.stderr.write(`${NAME}: no failed builds\n`);
        else process.stdout.write(failedTable(builds));
        return 0;
      }
      case 'tail': {
        if (!values.id) throw new UsageError('tail needs --id <global build id>');
        const progress = createProgress(integer('offset', values.offset, 0, 0, Number.MAX_SAFE_INTEGER));
        const retries = integer('retries', values.retries, DEFAULT_RETRIES, 0, 1000);
        const id = values.id;
        // Writes to a terminal, a file or a pipe are synchronous on Linux, so when the signal is handled
        // every byte up to `progress.offset` has been written, and nothing after it.
        process.once('SIGINT', () => {
          if (process.stdout.isTTY) process.stdout.write('\x1b[0m\n');
          process.stderr.write(`${NAME}: interrupted; nextOffset ${progress.offset}\n${NAME}: resume with: ${NAME} tail --id ${id} --offset ${progress.offset}\n`);
          process.exit(130);
        });
        await tail(
          client,
          {
            id,
            retries,
            write: (content) => process.stdout.write(content),
            onResume: ({ attempt, offset, delayMs, reason }) =>
              process.stderr.write(`${NAME}: ${reason.message}; resuming from offset ${offset} in ${delayMs} ms (attempt ${attempt}/${retries})\n`),
          },
          progress,
        );
        process.stderr.write(`${NAME}: build complete; nextOffset ${progress.offset}\n`);
        return 0;
      }
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)} (failed or tail)`);
    }
  } finally {
    await client.dispose();
  }
}

// `tail … | head` closes stdout early: that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError || (error instanceof TypeError && (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`${NAME}: ${error.message}\nrun "${NAME} --help" for usage\n`);
      process.exitCode = 2;
    } else if (error instanceof GraphQLRequestError) {
      process.stderr.write(`${NAME}: ${error.code ? `${error.code}: ` : ''}${error.message}\n`);
      process.exitCode = 1;
    } else if (error instanceof TransportError || error instanceof ProjectNotFoundError) {
      process.stderr.write(`${NAME}: ${error.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`${NAME}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
