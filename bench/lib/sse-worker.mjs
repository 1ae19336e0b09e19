/**
 * A load worker (a child process, forked by the fanout and bigtrace scenarios): it opens `buildTrace`
 * subscriptions over SSE (yoga's distinct-connection mode: POST /graphql with
 * `accept: text/event-stream`, one connection each), reassembles each log as a running sha256 and
 * byte count (checking that every chunk starts where the last one ended and that its byte length is
 * `nextOffset - offset`), and reports to its parent over IPC.
 *
 * parent → worker: `{type: 'start', url, query, subscribers: [{index, token, variables}], concurrency, arrivals}`,
 *                  `{type: 'stop'}` (abort whatever is still open and report).
 * worker → parent: `{type: 'progress', connected, failed}`, `{type: 'ready'}` once each subscriber has its
 *                  response headers (or failed), `{type: 'done', results}` once every stream has ended.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import { onSseEvents } from './sse-events.mjs';

const now = () => performance.timeOrigin + performance.now();
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

class Subscriber {
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
    this.status = undefined;
    this.errors = [];
    /** [time, nextOffset] per chunk, flattened, when the parent wants delivery times. */
    this.arrivals = [];
    this.firstChunkAt = undefined;
    this.endedAt = undefined;
    this.maxEventChars = 0;
    this.request = undefined;
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

/** Feeds one SSE event's data to the subscriber. */
function onEvent(sub, event, data, keepArrivals) {
  if (event === 'complete') return;
  if (event !== 'next' && event !== 'message' && event !== undefined) return;
  const t = now();
  sub.maxEventChars = Math.max(sub.maxEventChars, data.length);
  let payload;
  try {
    payload = JSON.parse(data);
  } catch {
    sub.errors.push(`unparsable event: ${data.slice(0, 200)}`);
    return;
  }
  if (payload.errors?.length) sub.errors.push(JSON.stringify(payload.errors).slice(0, 500));
  const chunk = payload.data?.buildTrace;
  if (!chunk) return;
  sub.chunks++;
  sub.firstChunkAt ??= t;
  if (chunk.offset !== sub.expected) sub.gaps++;
  const bytes = Buffer.from(chunk.content, 'utf8');
  if (bytes.length !== chunk.nextOffset - chunk.offset) sub.badLengths++;
  sub.hash.update(bytes);
  sub.bytes += bytes.length;
  sub.expected = chunk.nextOffset;
  if (chunk.complete) sub.complete = true;
  if (keepArrivals) sub.arrivals.push(t, chunk.nextOffset);
}

/** Opens one subscription; resolves `headers` at the response head and `ended` when the stream ends. */
function subscribe(sub, url, query, variables, keepArrivals) {
  let onHeaders;
  const headers = new Promise((resolve) => (onHeaders = resolve));
  const ended = new Promise((resolve) => {
    const finish = (error) => {
      if (error && !sub.complete) sub.errors.push(String(error.message ?? error));
      sub.endedAt ??= now();
      onHeaders();
      resolve();
    };
    const body = JSON.stringify({ query, variables });
    const request = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          accept: 'text/event-stream',
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          ...(sub.token && { 'PRIVATE-TOKEN': sub.token }),
        },
      },
      (response) => {
        sub.status = response.statusCode;
        onHeaders();
        response.setEncoding('utf8');
        onSseEvents(response, (event, data) => onEvent(sub, event, data, keepArrivals));
        response.on('end', () => finish());
        response.on('error', finish);
        response.on('aborted', () => finish(new Error('aborted')));
      },
    );
    request.on('error', finish);
    request.end(body);
    sub.request = request;
  });
  return { headers, ended };
}

let subscribers = [];
let reported = false;

function report() {
  if (reported) return;
  reported = true;
  process.send({ type: 'done', results: subscribers.map((sub) => sub.result()) }, () => process.exit(0));
}

process.on('message', async (message) => {
  if (message.type === 'stop') {
    for (const sub of subscribers) sub.request?.destroy();
    setTimeout(report, 200);
    return;
  }
  if (message.type !== 'start') return;
  const { url, query, concurrency = 25, arrivals = false } = message;
  subscribers = message.subscribers.map((s) => new Subscriber(s.index, s.token));
  const endings = [];
  let connected = 0;
  let failed = 0;
  const progress = setInterval(() => process.send({ type: 'progress', connected, failed }), 250);
  // At most `concurrency` subscriptions waiting for their response head at once.
  let next = 0;
  const lane = async () => {
    while (next < subscribers.length) {
      const i = next++;
      const sub = subscribers[i];
      const { headers, ended } = subscribe(sub, url, query, message.subscribers[i].variables, arrivals);
      endings.push(ended);
      await headers;
      if (sub.status === 200) connected++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, subscribers.length) }, lane));
  clearInterval(progress);
  process.send({ type: 'progress', connected, failed });
  process.send({ type: 'ready' });
  await Promise.all(endings);
  report();
});

// The parent died: nothing to report to.
process.on('disconnect', () => process.exit(0));
