/** Starts the ceiling (ceiling-gateway.mjs) as a child process, configured as `startGateway` configures a gateway. */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { START_NODE_FLAGS, scratch, startChild } from './procs.mjs';

const ENTRY = join(dirname(fileURLToPath(import.meta.url)), 'ceiling-gateway.mjs');

/** A ceiling gateway over `config` (an object, written to a scratch JSON file), like `startGateway`'s. */
export function startCeiling(config, label = 'ceiling') {
  const file = join(scratch(), `${label}-${process.hrtime.bigint()}.json`);
  // As for the gateway: no cross-request cache, so that both answer every request the same way.
  writeFileSync(file, JSON.stringify({ host: '127.0.0.1', graphiql: false, cache: { enabled: false }, ...config }, null, 2));
  // With the GC setting of `npm start`, as every bench gateway: the two differ only in their upstream.
  return startChild(label, ENTRY, ['--config', file, '--port', '0'], { ready: /GraphQL and GraphiQL at (http:\/\/\S+)/, nodeArgs: START_NODE_FLAGS });
}
