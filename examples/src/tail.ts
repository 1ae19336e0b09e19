/**
 * `tail`: a build's log as it grows, written as it arrives (ANSI escapes and all), until the build
 * completes. `progress.offset` is always the offset just past the last byte written, so a caller that
 * stops (Ctrl-C) can print where to resume, and a dropped connection resumes from there with nothing
 * lost or repeated.
 */
import { GraphQLRequestError, TransportError, type Client } from './client.js';
import { TailBuildSubscription as TailBuild } from './operations.js';

/** Codes after which subscribing again from the last offset is the right thing to do. */
export const RESUMABLE_CODES: ReadonlySet<string> = new Set([
  'SHUTTING_DOWN',
  'TRACE_OVERFLOW',
  'UPSTREAM_UNAVAILABLE',
  'UPSTREAM_TIMEOUT',
  'RATE_LIMITED',
]);

export const DEFAULT_RETRIES = 5;
const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 8_000;

export interface TailOptions {
  /** The build's global id. */
  id: string;
  /** Where to start: 0, or a `nextOffset` printed by an earlier run. @default 0 */
  offset?: number;
  /** Receives each piece of the log, in order. */
  write(content: string): void;
  /** Reconnects in a row (without a piece arriving in between) before giving up. @default DEFAULT_RETRIES */
  retries?: number;
  /** Told before each reconnect. */
  onResume?(event: { attempt: number; offset: number; delayMs: number; reason: Error }): void;
}

export interface TailProgress {
  /** Offset just past the last byte written: pass it as `offset` to resume. */
  offset: number;
  /** True once the last piece (the build finished) was written. */
  complete: boolean;
}

export function createProgress(offset = 0): TailProgress {
  return { offset, complete: false };
}

/** Tails until the build completes; updates `progress` after every piece it writes. */
export async function tail(client: Client, options: TailOptions, progress: TailProgress = createProgress(options.offset)): Promise<TailProgress> {
  const retries = options.retries ?? DEFAULT_RETRIES;
  let attempt = 0;
  for (;;) {
    let reason: Error;
    try {
      for await (const { buildTrace: chunk } of client.subscribe(TailBuild, { id: options.id, offset: progress.offset })) {
        if (chunk.offset !== progress.offset) {
          throw new Error(`the gateway sent a piece at offset ${chunk.offset}, expected ${progress.offset}`);
        }
        options.write(chunk.content);
        progress.offset = chunk.nextOffset;
        attempt = 0;
        if (chunk.complete) {
          progress.complete = true;
          return progress;
        }
      }
      reason = new TransportError('the stream ended before the build completed');
    } catch (error) {
      if (!isResumable(error)) throw error;
      reason = error as Error;
    }
    attempt += 1;
    if (attempt > retries) throw reason;
    const delayMs = backoff(attempt, reason);
    options.onResume?.({ attempt, offset: progress.offset, delayMs, reason });
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
}

function isResumable(error: unknown): boolean {
  if (error instanceof TransportError) return true;
  return error instanceof GraphQLRequestError && error.code !== undefined && RESUMABLE_CODES.has(error.code);
}

/** Exponential from 500 ms to 8 s; an upstream's `Retry-After` (RATE_LIMITED) when it gave one. */
function backoff(attempt: number, reason: Error): number {
  if (reason instanceof GraphQLRequestError) {
    const retryAfter = reason.errors[0]?.extensions?.retryAfter;
    if (typeof retryAfter === 'number' && retryAfter >= 0) return Math.min(retryAfter * 1000, 60_000);
  }
  return Math.min(FIRST_BACKOFF_MS * 2 ** (attempt - 1), MAX_BACKOFF_MS);
}
