/**
 * Reading a shared subscription's stream under the layers (plugins/shared-stream.ts) over the trace
 * hub's Channel: shared results are written as they are pushed, a full writer holds the producer back
 * until it resumes, and whatever is not a shared result (an error, the end) is handed to `next()`.
 */
import type { ExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import { HANDOFF, SharedStream, WAIT, pumpShared } from '../../src/plugins/shared-stream.js';
import { Channel } from '../../src/trace/channel.js';

/** A channel fed by hand: `push` as the trace hub pushes, `stop` as it ends a stream. */
function fedChannel() {
  let push!: (value: number, taken?: () => void) => Promise<void> | undefined;
  let stop!: (error?: Error) => void;
  const channel = new Channel<number>((p, s, stopped) => {
    push = p;
    stop = s;
    return stopped;
  });
  return { channel, push: (value: number, taken?: () => void) => push(value, taken), stop: (error?: Error) => stop(error) };
}

/** Results of even numbers are shared; an odd number maps to a result with errors. */
const map = (n: unknown): ExecutionResult => ((n as number) % 2 === 0 ? { data: { n } } : { errors: [{ message: `odd ${n}` }] as never });
const isShared = (result: ExecutionResult) => !result.errors;

describe('pumpShared over a Channel', () => {
  it('writes each shared result when it is pushed, holds the producer while the writer is full, and hands off the rest', async () => {
    const { channel, push, stop } = fedChannel();
    let left = 0;
    const stream = new SharedStream(channel, map, isShared, () => void (left += 1));
    expect(stream.synchronous).toBe(true);
    const written: unknown[] = [];
    let room = 2;
    let handedOff = 0;
    const pump = pumpShared(
      stream,
      (result) => {
        written.push(result.data!.n);
        room -= 1;
        return room > 0;
      },
      () => void (handedOff += 1),
    );
    await Promise.resolve();
    // Taken at once: the producer gets no promise to wait on.
    expect(push(0)).toBeUndefined();
    expect(written).toEqual([0]);
    const taken: number[] = [];
    expect(push(2, () => taken.push(2))).toBeUndefined();
    expect(taken).toEqual([2]);
    // The writer is full now: the next value waits on offer, and so does its producer.
    let settled = false;
    const waiting = push(4)!.then(() => (settled = true));
    await Promise.resolve();
    expect(written).toEqual([0, 2]);
    expect(settled).toBe(false);
    room = 10;
    pump.resume();
    await waiting;
    expect(written).toEqual([0, 2, 4]);
    // A result with errors is not written here: it waits for next(), through whatever wraps the stream.
    push(5);
    expect(handedOff).toBe(1);
    expect(stream.takeShared()).toBe(HANDOFF);
    expect((await stream.next()).value).toEqual({ errors: [{ message: 'odd 5' }] });
    expect(stream.takeShared()).toBe(WAIT);
    // An error from the producer is handed over the same way, and ends the stream once.
    const error = new Error('gone');
    let again = 0;
    pumpShared(stream, () => true, () => void (again += 1));
    stop(error);
    expect(again).toBe(1);
    await expect(stream.next()).rejects.toBe(error);
    expect(left).toBe(1);
    expect((await stream.next()).done).toBe(true);
  });
});
