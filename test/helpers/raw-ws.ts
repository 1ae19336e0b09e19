/**
 * graphql-ws spoken by hand over a raw `ws` socket, for what a well-behaved client never sends
 * (oversized messages, bad credentials, hundreds of operations at once) and to see exact close codes.
 */
import { once } from 'node:events';
import WebSocket from 'ws';

export interface RawGraphQLSocket {
  socket: WebSocket;
  /** Every message received, parsed. */
  messages: Array<{ id?: string; type: string; payload?: any }>;
  /** How many came as binary frames (graphql-ws speaks text only: a browser would get a Blob). */
  binaryFrames: number;
  /** Settles with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
  /** The first message (already received or to come) that `match` accepts; rejects if the socket closes first. */
  next(match: (message: { id?: string; type: string; payload?: any }) => boolean): Promise<{ id?: string; type: string; payload?: any }>;
}

/** Opens a socket and sends `connection_init` with `params`; resolves once it is acknowledged or closed. */
export async function rawGraphQLSocket(graphqlUrl: string, params: unknown = {}): Promise<RawGraphQLSocket> {
  const socket = new WebSocket(graphqlUrl.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const messages: RawGraphQLSocket['messages'] = [];
  const waiters = new Set<() => void>();
  let binaryFrames = 0;
  socket.on('message', (data, isBinary) => {
    if (isBinary) binaryFrames += 1;
    messages.push(JSON.parse(String(data)));
    for (const wake of [...waiters]) wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.once('close', (code, reason) => {
      resolve({ code, reason: String(reason) });
      for (const wake of [...waiters]) wake();
    });
  });
  socket.on('error', () => undefined);
  await once(socket, 'open');
  const raw: RawGraphQLSocket = {
    socket,
    messages,
    get binaryFrames() {
      return binaryFrames;
    },
    closed,
    send: (message) => socket.send(typeof message === 'string' ? message : JSON.stringify(message)),
    next: (match) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.find(match);
          if (found) {
            waiters.delete(check);
            resolve(found);
          } else if (socket.readyState === WebSocket.CLOSED) {
            waiters.delete(check);
            reject(new Error(`socket closed; messages: ${JSON.stringify(messages).slice(0, 500)}`));
          }
        };
        waiters.add(check);
        check();
      }),
  };
  raw.send({ type: 'connection_init', payload: params });
  await Promise.race([raw.next((m) => m.type === 'connection_ack').catch(() => undefined), closed]);
  return raw;
}
