/**
 * A load worker (a child process, forked by the fanout and bigtrace scenarios): it opens `buildTrace`
 * subscriptions over SSE (yoga's distinct-connection mode: POST /graphql with
 * `accept: text/event-stream`, one connection each) and reports each subscriber's reassembled log to its
 * parent over IPC (trace-subscriber.mjs: the reassembly and the protocol, shared with ws-worker.mjs).
 */
import http from 'node:http';
import { onSseEvents } from './sse-events.mjs';
import { now, runWorker } from './trace-subscriber.mjs';

const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

/** Feeds one SSE event's data to the subscriber. */
function onEvent(sub, event, data, keepArrivals) {
  if (event === 'complete') return;
  if (event !== 'next' && event !== 'message' && event !== undefined) return;
  let payload;
  try {
    payload = JSON.parse(data);
  } catch {
    sub.errors.push(`unparsable event: ${data.slice(0, 200)}`);
    return;
  }
  sub.onResult(payload, data.length, keepArrivals);
}

/** Opens one subscription; resolves `connected` at the response head and `ended` when the stream ends. */
function subscribe(sub, { url, query, variables, arrivals: keepArrivals }) {
  let onConnected;
  const connected = new Promise((resolve) => (onConnected = resolve));
  const ended = new Promise((resolve) => {
    const finish = (error) => {
      if (error && !sub.complete) sub.errors.push(String(error.message ?? error));
      sub.endedAt ??= now();
      onConnected();
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
        sub.connected = response.statusCode === 200;
        onConnected();
        response.setEncoding('utf8');
        onSseEvents(response, (event, data) => onEvent(sub, event, data, keepArrivals));
        response.on('end', () => finish());
        response.on('error', finish);
        response.on('aborted', () => finish(new Error('aborted')));
      },
    );
    request.on('error', finish);
    request.end(body);
    sub.cancel = () => request.destroy();
  });
  return { connected, ended };
}

runWorker(subscribe);
