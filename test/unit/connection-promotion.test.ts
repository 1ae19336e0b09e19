/**
 * Issue #16 (GC): a connection the resolvers return does not keep its page alive through scavenges.
 * Made as an object literal with getter closures, each connection was a dictionary-mode object whose
 * accessor pairs V8 allocates in old space: the getters, and through them the page (some 30 KB for 20
 * builds), were then held from old space until a full GC, so every list's page was promoted
 * (bench/RESULTS.md, "#16, fourth round"). The child (over the compiled code, with `--expose-gc`) makes
 * 300 connections over pages of about 80 KB each, drops them, runs three minor GCs and reports how much
 * old space grew: about 25 MB with literals, about 0.1 MB with classes.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const url = (path: string) => JSON.stringify(pathToFileURL(join(ROOT, path)).href);

const CHILD = `
import v8 from 'node:v8';
const { toConnection, toPipelineConnection } = await import(${url('dist/relay.js')});
const { feedConnection } = await import(${url('dist/resolvers/feed-plan.js')});
const oldSpace = () => v8.getHeapSpaceStatistics().find((space) => space.space_name === 'old_space').space_used_size;
const items = () => Array.from({ length: 20 }, (_, i) => ({ id: String(i), payload: Array.from({ length: 100 }, (_, j) => ({ j })) }));
const positions = Array.from({ length: 20 }, (_, i) => String(i));
const makers = {
  builds: () => toConnection('list', { builds: items(), positions, hasNextPage: true, hasPreviousPage: false, totalCount: null }),
  pipelines: () => toPipelineConnection('list', { pipelines: items(), positions, hasNextPage: false, hasPreviousPage: false, totalCount: 20 }),
  feed: () => feedConnection({ checked: [], groups: [], result: { items: items().map((item) => ({ item })), hasNextPage: true }, positionsAfter: () => [] }, 'feed', false),
};
const promotedMiB = {};
for (const [name, make] of Object.entries(makers)) {
  gc();
  gc();
  const before = oldSpace();
  let nodes = 0;
  for (let i = 0; i < 300; i++) nodes += make().nodes.length;
  gc({ type: 'minor' });
  gc({ type: 'minor' });
  gc({ type: 'minor' });
  promotedMiB[name] = { mib: (oldSpace() - before) / 2 ** 20, nodes };
}
process.stdout.write(JSON.stringify(promotedMiB) + '\\n');
`;

describe('connections', () => {
  it('do not hold their pages through minor GCs', () => {
    const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', CHILD], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    const promoted: Record<string, { mib: number; nodes: number }> = JSON.parse(out.trim().split('\n').pop()!);
    for (const name of ['builds', 'pipelines', 'feed']) {
      expect(promoted[name]!.nodes).toBe(300 * 20);
      // 300 pages of ~80 KB: ~23 MiB when each page is promoted; a few hundred KiB of noise when none is.
      expect(promoted[name]!.mib).toBeLessThan(3);
    }
  });
});
