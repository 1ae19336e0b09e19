/**
 * `npm start`'s pre-step: runs `npm run build` only when an input is newer than the compiled output, so
 * a start after `npm ci` (whose `prepare` builds) takes well under a second instead of a full rebuild.
 * Inputs: the gateway's and the simulator's sources, the SDL, and the configs that shape the build.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The repository this script sits in; a test passes another folder laid out the same way.
const root = process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url));
/** Each compiled package with what it is compiled from (codegen writes into `src/` before tsc runs). */
const PACKAGES = [
  {
    inputs: ['packages/simulator/src', 'packages/simulator/package.json', 'packages/simulator/tsconfig.json', 'packages/simulator/tsconfig.build.json', 'tsconfig.json'],
    outputs: ['packages/simulator/dist/index.js', 'packages/simulator/dist/main.js'],
  },
  {
    inputs: ['src', 'schema', 'codegen.yml', 'package.json', 'tsconfig.json', 'tsconfig.build.json'],
    outputs: ['dist/main.js'],
  },
];

/** The newest modification time under `path` (a file or a folder), 0 when it does not exist. */
function newest(path) {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs; // a deleted or renamed file shows as a newer folder
  for (const name of readdirSync(path)) latest = Math.max(latest, newest(join(path, name)));
  return latest;
}

const at = (path) => newest(join(root, path));
const stale = PACKAGES.some(({ inputs, outputs }) => Math.max(...inputs.map(at)) > Math.min(...outputs.map((file) => at(file) || -Infinity)));
if (stale) {
  process.stdout.write('buildgate: sources are newer than dist/, building\n');
  const { status } = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  process.exit(status ?? 1);
}
