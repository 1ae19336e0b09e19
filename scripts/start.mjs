/**
 * `npm start`: builds when a source is newer than dist/, then runs the CLI in this same process. As a
 * `prestart` script the check cost a second Node start-up (~0.1–0.25 s) on every start.
 *
 * The node flags before this script in package.json's "start" are the gateway's GC settings, and the one
 * place they are written: bench/lib/procs.mjs reads them from there for every gateway a bench starts.
 * `--heap-growing-percent=50`: after each major GC, V8 lets the old space grow to 1.5× what survived
 * instead of by its own factor (up to 4× when allocation is fast): with 10,000 trace watchers that let
 * RSS reach 1.1 GiB between major GCs (bench/RESULTS.md, perf-fanout2).
 */
import { REPOSITORY, buildIfStale } from './build-if-stale.mjs';

const status = buildIfStale(REPOSITORY);
if (status !== 0) process.exit(status);
// The CLI reads its flags from process.argv[2…], which are this script's: `npm start -- --port 0`.
await import('../dist/main.js');
