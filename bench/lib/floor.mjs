/** Starts the floor (floor-gateway.mjs: bare yoga + graphql-jit over the simulator) as a child process. */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { START_NODE_FLAGS, startChild } from './procs.mjs';

const ENTRY = join(dirname(fileURLToPath(import.meta.url)), 'floor-gateway.mjs');

/** The floor over the simulator at `simUrl`, with `npm start`'s GC flags, as every bench gateway. */
export function startFloor(simUrl, label = 'floor') {
  return startChild(label, ENTRY, [simUrl], { ready: /listening on (http:\/\/\S+)/, nodeArgs: START_NODE_FLAGS });
}
