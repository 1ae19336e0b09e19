/**
 * A load worker like sse-worker.mjs, over graphql-ws: one WebSocket per subscriber (graphql-ws's own
 * client on `ws`), its token in `connectionParams` (`{"PRIVATE-TOKEN": …}`, as a browser must send it),
 * one `buildTrace` subscription on it. The reassembly and the IPC protocol are trace-subscriber.mjs's.
 * A subscriber counts as connected once the gateway has acknowledged `connection_init` and the
 * subscribe message has been sent.
 */
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { now, runWorker } from './trace-subscriber.mjs';

function subscribe(sub, { url, query, variables, arrivals: keepArrivals }) {
  let onConnected;
  const connected = new Promise((resolve) => (onConnected = resolve));
  const ended = new Promise((resolve) => {
    const finish = (error) => {
      if (error && !sub.complete) {
        sub.errors.push(
          Array.isArray(error) ? JSON.stringify(error).slice(0, 500) : error?.code !== undefined ? `closed ${error.code} ${error.reason ?? ''}` : String(error?.message ?? error),
        );
      }
      sub.endedAt ??= now();
      onConnected();
      client.dispose();
      resolve();
    };
    const client = createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: sub.token ? { 'PRIVATE-TOKEN': sub.token } : {},
      lazy: true,
      retryAttempts: 0,
      on: {
        connected: () => {
          sub.status = 101;
          sub.connected = true;
          onConnected();
        },
      },
    });
    // The client hands over parsed results only: `maxEventChars` stays 0 over graphql-ws.
    client.subscribe({ query, variables }, { next: (result) => sub.onResult(result, 0, keepArrivals), error: finish, complete: () => finish() });
    sub.cancel = () => client.terminate();
  });
  return { connected, ended };
}

runWorker(subscribe);
