/**
 * `npm start`: builds when a source is newer than dist/, then runs the CLI in this same process. As a
 * `prestart` script the check cost a second Node start-up (~0.1–0.25 s) on every start.
 */
import { REPOSITORY, buildIfStale } from './build-if-stale.mjs';

const status = buildIfStale(REPOSITORY);
if (status !== 0) process.exit(status);
// The CLI reads its flags from process.argv[2…], which are this script's: `npm start -- --port 0`.
await import('../dist/main.js');
