/**
 * Issue #13: the finished-build cache keeps nothing per invalidated build (it kept a generation counter
 * for every build ever mutated), and invalidating still forgets the build for every credential.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { FinishedBuildCache } from '../src/loaders/finished-cache.js';
import type { BuildModel, Credential } from '../src/model.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const alice: Credential = { name: 'PRIVATE-TOKEN', value: 'glpat-alice' };
const bob: Credential = { name: 'PRIVATE-TOKEN', value: 'glpat-bob' };
const key = (locator: string) => ({ upstream: 'gitlab', projectId: '1', locator });
const build = (locator: string) => ({ upstream: 'gitlab', projectId: '1', locator, id: locator, status: 'SUCCESS' }) as unknown as BuildModel;
const trace = { offset: 0, nextOffset: 3, content: 'abc', size: 3, atEnd: true };

const cache = () => new FinishedBuildCache({ maxEntries: 1000, maxBytes: 1 << 20, ttlMs: 60_000 });

describe('FinishedBuildCache.invalidate', () => {
  it('forgets the build and its log windows for every credential, and nothing else', () => {
    const finished = cache();
    for (const credential of [alice, bob]) {
      finished.setBuild(key('7'), credential, build('7'));
      finished.setTrace(key('7'), credential, '0:100', trace);
      finished.setBuild(key('70'), credential, build('70'));
    }
    expect(finished.size).toBe(6);
    finished.invalidate(key('7'));
    expect(finished.size).toBe(2);
    for (const credential of [alice, bob]) {
      expect(finished.getBuild(key('7'), credential)).toBeUndefined();
      expect(finished.getTrace(key('7'), credential, '0:100')).toBeUndefined();
      expect(finished.getBuild(key('70'), credential)?.locator).toBe('70');
    }
    finished.setBuild(key('7'), alice, build('7'));
    expect(finished.getBuild(key('7'), alice)?.locator).toBe('7');
  });

  it('keeps its heap flat over 200,000 invalidations of distinct builds', () => {
    const finished = cache();
    finished.setBuild(key('1'), alice, build('1'));
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 200_000; i++) finished.invalidate(key(`${i}-${'x'.repeat(64)}`));
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    // A counter per build was ~30 MB here.
    expect(grown).toBeLessThan(4 * 1024 * 1024);
    expect(finished.getBuild(key('1'), alice)?.locator).toBe('1');
  });
});
