/**
 * The build poller's timing under a busy event loop (10,000 watchers keep one busy): its cadence runs
 * from when each poll was due, so timers that fire late do not stretch it; and a round of wake-ups is
 * spread over turns of the event loop, so a timer due meanwhile runs before the round ends.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BuildModel, TraceSlice } from '../../src/model.js';
import { BuildPoller, type PollerMember, type PollerOptions } from '../../src/trace/poller.js';
import type { Upstream } from '../../src/upstreams/types.js';

const OPTIONS: PollerOptions = { intervalMs: 50, maxIntervalMs: 50, tailChars: 64 * 1024, maxFailures: 3, slowSubscriberGraceMs: 1000 };
const BUILD = { id: '1', locator: '1', status: 'running', attempt: 1 } as unknown as BuildModel;

/** An upstream whose log grows by one line at every read, answered at once (no I/O to wait for). */
function growingUpstream(): Upstream {
  let size = 0;
  return {
    traceUnit: 'BYTES',
    getBuild: async () => BUILD,
    async *streamTrace(): AsyncIterable<TraceSlice> {
      const content = `line ${size}\n`;
      const bytes = Buffer.from(content);
      yield { offset: size, nextOffset: size + bytes.length, content, size: size + bytes.length, atEnd: true, bytes };
      size += bytes.length;
    },
  } as unknown as Upstream;
}

function member(onWake: () => void = () => undefined): PollerMember {
  return { credential: undefined, verified: true, position: 0, wantsTrace: true, wake: onWake, overflow: () => undefined };
}

let poller: BuildPoller | undefined;
let busy: NodeJS.Timeout | undefined;
afterEach(() => {
  clearInterval(busy);
  poller?.stop();
});

describe('the build poller under a busy event loop', () => {
  it('keeps one poll per interval when its timers fire late', async () => {
    poller = new BuildPoller({ upstream: 'u', projectId: '1', locator: '1' }, growingUpstream(), { token: 't' } as never, { offset: 0, build: BUILD }, OPTIONS, () => undefined);
    poller.join(member());
    // The loop is held 30 ms of every 35: a timer mostly fires up to 30 ms after it was due.
    busy = setInterval(() => {
      const until = Date.now() + 30;
      while (Date.now() < until);
    }, 35);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = poller.polls;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const polls = poller.polls - before;
    // 40 at 50 ms; counting each interval from when the poll ran (late) instead gives about 32.
    expect(polls).toBeGreaterThanOrEqual(37);
    expect(polls).toBeLessThanOrEqual(42);
  });

  it('wakes many members over several turns of the event loop, and a timer due meanwhile runs in between', async () => {
    const order: string[] = [];
    poller = new BuildPoller({ upstream: 'u', projectId: '1', locator: '1' }, growingUpstream(), { token: 't' } as never, { offset: 0, build: BUILD }, { ...OPTIONS, intervalMs: 60_000, maxIntervalMs: 60_000 }, () => undefined);
    let woken = 0;
    // Each wake-up costs 20 µs, as a delivery does: 2,000 of them outlast the timer's 1 ms many times over.
    const wake = () => {
      woken += 1;
      const until = performance.now() + 0.02;
      while (performance.now() < until);
    };
    for (let i = 0; i < 2000; i++) poller.join(member(wake));
    // The first poll runs at once and wakes every member for its new line; a timer set now is due
    // before the last of them wakes only if the wake-ups give way to the event loop.
    setTimeout(() => order.push(`timer at ${woken}`), 0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(woken).toBeGreaterThanOrEqual(2000);
    const at = Number(order[0]!.split(' ').at(-1));
    expect(at).toBeLessThan(2000);
  });
});
