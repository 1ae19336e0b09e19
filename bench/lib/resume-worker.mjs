/**
 * A load worker for `fanout --replicas N` (forked by workers.mjs): `buildTrace` subscriptions over SSE
 * (POST /graphql, `accept: text/event-stream`, one connection each), each starting on its own replica
 * of `urls` and, when its stream is cut before `complete: true` (the replica was killed), subscribing
 * again on another replica with `offset` = the last `nextOffset` received, as a client is told to.
 *
 * Each subscriber keeps a running sha256 and byte count of what it received, appended as it came (a
 * repeated byte or a hole after a resume shows in the hash), and counts the bytes lost (a chunk
 * starting past the last `nextOffset`) and repeated (a chunk starting before it).
 *
 * parent → worker: `{type: 'start', url, query, subscribers: [{index, token, variables, replica}],
 *                  concurrency, arrivals, urls}`, `{type: 'stop'}`.
 * worker → parent: `{type: 'progress', connected, failed}`, `{type: 'ready'}` once every first
 *                  subscription has its response head, `{type: 'done', results}` once all have ended.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import { onSseEvents } from './sse-events.mjs';
import { openAll } from './trace-subscriber.mjs';

const now = () => performance.timeOrigin + performance.now();
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
/** A cut subscriber tries this many times (over the replicas in turn) before it counts as lost. */
const MAX_ATTEMPTS = 40;
const RETRY_BASE_MS = 50;
const RETRY_MAX_MS = 1_000;

let stopping = false;

class Subscriber {
  constructor(spec, urls) {
    this.index = spec.index;
    this.token = spec.token;
    this.variables = spec.variables;
    this.urls = urls;
    this.firstReplica = spec.replica % urls.length;
    this.replica = this.firstReplica;
    this.hash = createHash('sha256');
    this.bytes = 0;
    this.expected = 0;
    this.chunks = 0;
    this.lostBytes = 0;
    this.repeatedBytes = 0;
    this.badLengths = 0;
    this.complete = false;
    this.status = undefined;
    this.errors = [];
    this.arrivals = [];
    /**
     * One `[cutAt, resumedAt, replica, acceptedAt]` per cut: resumedAt is the first chunk on the new
     * replica, acceptedAt its 200 response head.
     */
    this.cuts = [];
    this.cutReasons = [];
    this.attempts = 0;
    this.gaveUp = false;
    this.request = undefined;
  }

  result() {
    return {
      index: this.index,
      token: this.token,
      firstReplica: this.firstReplica,
      replica: this.replica,
      status: this.status,
      bytes: this.bytes,
      nextOffset: this.expected,
      sha256: this.hash.digest('hex'),
      chunks: this.chunks,
      lostBytes: this.lostBytes,
      repeatedBytes: this.repeatedBytes,
      badLengths: this.badLengths,
      complete: this.complete,
      gaveUp: this.gaveUp,
      errors: this.errors.slice(0, 3),
      errorCount: this.errors.length,
      cutReasons: this.cutReasons,
      arrivals: this.arrivals,
      cuts: this.cuts,
    };
  }
}

function onChunk(sub, chunk, t, keepArrivals) {
  sub.chunks++;
  if (chunk.offset > sub.expected) sub.lostBytes += chunk.offset - sub.expected;
  else if (chunk.offset < sub.expected) sub.repeatedBytes += Math.min(sub.expected, chunk.nextOffset) - chunk.offset;
  const bytes = Buffer.from(chunk.content, 'utf8');
  if (bytes.length !== chunk.nextOffset - chunk.offset) sub.badLengths++;
  sub.hash.update(bytes);
  sub.bytes += bytes.length;
  sub.expected = chunk.nextOffset;
  if (chunk.complete) sub.complete = true;
  const cut = sub.cuts[sub.cuts.length - 1];
  if (cut && cut[1] === undefined) cut[1] = t;
  if (keepArrivals) sub.arrivals.push(t, chunk.nextOffset);
}

function onEvent(sub, event, data, keepArrivals) {
  if (event !== 'next' && event !== 'message' && event !== undefined) return;
  const t = now();
  let payload;
  try {
    payload = JSON.parse(data);
  } catch {
    sub.errors.push(`unparsable event: ${data.slice(0, 200)}`);
    return;
  }
  if (payload.errors?.length) sub.errors.push(JSON.stringify(payload.errors).slice(0, 500));
  const chunk = payload.data?.buildTrace;
  if (chunk) onChunk(sub, chunk, t, keepArrivals);
}

/** One SSE request on the subscriber's current replica; resolves with its status once it has ended. */
function stream(sub, query, keepArrivals, onHead) {
  return new Promise((resolve) => {
    let status;
    let settled = false;
    const finish = (error) => {
      if (settled) return;
      settled = true;
      // A cut connection is what the bench does on purpose (`cuts`); only the first few reasons are kept.
      if (error && !sub.complete && !stopping && sub.cutReasons.length < 3) sub.cutReasons.push(`replica ${sub.replica}: ${String(error.message ?? error)}`);
      onHead(status);
      resolve(status);
    };
    const body = JSON.stringify({ query, variables: { ...sub.variables, offset: sub.expected } });
    const request = http.request(
      sub.urls[sub.replica],
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
        status = response.statusCode;
        sub.status = status;
        const cut = sub.cuts[sub.cuts.length - 1];
        if (status === 200 && cut && cut[1] === undefined) cut[3] = now();
        onHead(status);
        response.setEncoding('utf8');
        if (status !== 200) {
          let text = '';
          response.on('data', (chunk) => (text += chunk.slice(0, 500)));
          response.on('end', () => {
            sub.errors.push(`replica ${sub.replica}: HTTP ${status} ${text.slice(0, 300)}`);
            finish();
          });
          response.on('error', finish);
          return;
        }
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
}

/**
 * Runs one subscriber to its end: `complete: true`, the bench's stop, or MAX_ATTEMPTS failed tries.
 * `onHead` is called once, with the first request's status (or undefined if it never got one).
 */
async function run(sub, query, keepArrivals, onHead) {
  let first = true;
  const head = (status) => {
    if (first) {
      first = false;
      onHead(status);
    }
  };
  for (;;) {
    const chunksBefore = sub.chunks;
    await stream(sub, query, keepArrivals, head);
    if (sub.complete || stopping) return;
    // Only a stream that delivered something counts as a success: one answered 200 and then cut at
    // once must not retry forever.
    if (sub.chunks > chunksBefore) sub.attempts = 0;
    const cut = sub.cuts[sub.cuts.length - 1];
    if (!cut || cut[1] !== undefined) sub.cuts.push([now(), undefined, undefined, undefined]);
    if (++sub.attempts > MAX_ATTEMPTS) {
      sub.gaveUp = true;
      return;
    }
    // The first try spreads the cut subscribers of one replica evenly over the others (as a load
    // balancer would, rather than all onto the next one); a refused try moves on to the next in turn.
    const n = sub.urls.length;
    const step = sub.attempts === 1 && n > 2 ? 1 + (Math.floor(sub.index / n) % (n - 1)) : 1;
    sub.replica = (sub.replica + step) % n;
    sub.cuts[sub.cuts.length - 1][2] = sub.replica;
    const backoff = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, sub.attempts - sub.urls.length));
    await new Promise((resolve) => setTimeout(resolve, backoff * (0.5 + Math.random() / 2)));
    if (stopping) return;
  }
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
    stopping = true;
    for (const sub of subscribers) sub.request?.destroy();
    setTimeout(report, 200);
    return;
  }
  if (message.type !== 'start') return;
  const { query, concurrency = 25, arrivals = false, urls } = message;
  subscribers = message.subscribers.map((spec) => new Subscriber(spec, urls));
  const endings = [];
  await openAll(subscribers.length, concurrency, async (i) => {
    let onHead;
    const headed = new Promise((resolve) => (onHead = resolve));
    endings.push(run(subscribers[i], query, arrivals, onHead));
    return (await headed) === 200;
  });
  await Promise.all(endings);
  report();
});

process.on('disconnect', () => process.exit(0));
