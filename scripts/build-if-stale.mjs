/**
 * `npm start`'s and `npm run simulator`'s staleness check: runs `npm run build` only when an input is
 * newer than the compiled output, so a start after `npm ci` (whose `prepare` builds) takes well under a
 * second instead of a full rebuild. Inputs: the gateway's and the simulator's sources, the SDL, and the
 * configs that shape the build. Run as a script (`node scripts/build-if-stale.mjs [root]`) or imported
 * (scripts/start.mjs, which then starts the CLI in the same process).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Each compiled package with what it is compiled from (codegen writes into `src/` before tsc runs). */
const PACKAGES = [
  {
    inputs: ['packages/simulator/src', 'packages/simulator/package.json', 'packages/simulator/tsconfig.json', 'packages/simulator/tsconfig.build.json', 'tsconfig.json'],
    outputs: ['packages/simulator/dist/index.js', 'packages/simulator/dist/main.js'],
  },
  {
    inputs: ['src', 'schema', 'codegen.yml', 'package.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build-graphiql-assets.mjs'],
    outputs: ['dist/main.js', 'dist/graphiql-assets/manifest.json'],
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

/** Builds `root` when it is stale; the build's exit status, or 0 when nothing needed building. */
export function buildIfStale(root) {
  const at = (path) => newest(join(root, path));
  const stale = PACKAGES.some(({ inputs, outputs }) => Math.max(...inputs.map(at)) > Math.min(...outputs.map((file) => at(file) || -Infinity)));
  if (!stale) return 0;
  process.stdout.write('buildgate: sources are newer than dist/, building\n');
  const { status } = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  return status ?? 1;
}

/** The repository this script sits in. */
export const REPOSITORY = fileURLToPath(new URL('..', import.meta.url));

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // A test passes another folder laid out like the repository.
  const status = buildIfStale(process.argv[2] ?? REPOSITORY);
  if (status !== 0) process.exit(status);
}
