/**
 * What every trace load worker shares, whatever its transport (sse-worker.mjs, ws-worker.mjs): one
 * subscriber's reassembly (a running sha256 and byte count of every chunk, checking that each starts where
 * the last one ended and holds `nextOffset - offset` bytes), and the worker's side of the IPC protocol.
 *
 * parent → worker: `{type: 'start', url, query, subscribers: [{index, token, variables}], concurrency, arrivals}`,
 *                  `{type: 'stop'}` (abort whatever is still open and report).
 * worker → parent: `{type: 'progress', connected, failed}`, `{type: 'ready'}` once each subscriber is
 *                  connected (or failed), `{type: 'done', results}` once every stream has ended.
 */
import { createHash } from 'node:crypto';

export const now = () => performance.timeOrigin + performance.now();

export class Subscriber {
  constructor(index, token) {
    this.index = index;
    this.token = token;
    this.hash = createHash('sha256');
    this.bytes = 0;
    this.expected = 0;
    this.chunks = 0;
    this.gaps = 0;
    this.badLengths = 0;
    this.complete = false;
    /** The transport's answer to the subscription: an HTTP status (SSE), 101 once acknowledged (graphql-ws). */
    this.status = undefined;
    /** Set by the transport once the subscription is open. */
    this.connected = false;
    this.errors = [];
    /** [time, nextOffset] per chunk, flattened, when the parent wants delivery times. */
    this.arrivals = [];
    this.firstChunkAt = undefined;
    this.endedAt = undefined;
    this.maxEventChars = 0;
    /** Set by the transport: closes the subscription at once. */
    this.cancel = () => {};
  }

  /** Feeds one execution result (`{data?, errors?}`) to the subscriber; `chars` is its size on the wire. */
  onResult(payload, chars, keepArrivals) {
    const t = now();
    this.maxEventChars = Math.max(this.maxEventChars, chars);
    if (payload.errors?.length) this.errors.push(JSON.stringify(payload.errors).slice(0, 500));
    const chunk = payload.data?.buildTrace;
    if (!chunk) return;
    this.chunks++;
    this.firstChunkAt ??= t;
    if (chunk.offset !== this.expected) this.gaps++;
    const bytes = Buffer.from(chunk.content, 'utf8');
    if (bytes.length !== chunk.nextOffset - chunk.offset) this.badLengths++;
    this.hash.update(bytes);
    this.bytes += bytes.length;
    this.expected = chunk.nextOffset;
    if (chunk.complete) this.complete = true;
    if (keepArrivals) this.arrivals.push(t, chunk.nextOffset);
  }

  result() {
    return {
      index: this.index,
      token: this.token,
      status: this.status,
      bytes: this.bytes,
      nextOffset: this.expected,
      sha256: this.hash.digest('hex'),
      chunks: this.chunks,
      gaps: this.gaps,
      badLengths: this.badLengths,
      complete: this.complete,
      errors: this.errors.slice(0, 3),
      arrivals: this.arrivals,
      firstChunkAt: this.firstChunkAt,
      endedAt: this.endedAt,
      maxEventChars: this.maxEventChars,
    };
  }
}

/**
 * Opens `count` subscriptions, at most `concurrency` of them waiting to be open at once, telling the
 * bench how many are open or failed as it goes, then that all are. `open(i)` resolves whether the
 * i-th subscription is open.
 */
export async function openAll(count, concurrency, open) {
  let connected = 0;
  let failed = 0;
  const progress = setInterval(() => process.send({ type: 'progress', connected, failed }), 250);
  let next = 0;
  const lane = async () => {
    while (next < count) {
      if (await open(next++)) connected++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  clearInterval(progress);
  process.send({ type: 'progress', connected, failed });
  process.send({ type: 'ready' });
}

/**
 * Runs this process as a load worker: `subscribe(sub, {url, query, variables, arrivals})` opens one
 * subscription and returns `{connected, ended}` (promises: the subscription is open or has failed; the
 * stream has ended), setting `sub.connected` and `sub.cancel`.
 */
export function runWorker(subscribe) {
  let subscribers = [];
  let reported = false;
  const report = () => {
    if (reported) return;
    reported = true;
    process.send({ type: 'done', results: subscribers.map((sub) => sub.result()) }, () => process.exit(0));
  };

  process.on('message', async (message) => {
    if (message.type === 'stop') {
      for (const sub of subscribers) sub.cancel();
      setTimeout(report, 200);
      return;
    }
    if (message.type !== 'start') return;
    const { url, query, concurrency = 25, arrivals = false } = message;
    subscribers = message.subscribers.map((s) => new Subscriber(s.index, s.token));
    const endings = [];
    await openAll(subscribers.length, concurrency, async (i) => {
      const sub = subscribers[i];
      const opened = subscribe(sub, { url, query, variables: message.subscribers[i].variables, arrivals });
      endings.push(opened.ended);
      await opened.connected;
      return sub.connected;
    });
    await Promise.all(endings);
    report();
  });

  // The parent died: nothing to report to.
  process.on('disconnect', () => process.exit(0));
}
