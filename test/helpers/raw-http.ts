/**
 * A raw TCP client, for what `fetch` cannot do: send half a request and see when the server gives up.
 */
import { once } from 'node:events';
import { type Socket, connect } from 'node:net';

export interface RawConnection {
  socket: Socket;
  /** Everything the server has sent so far. */
  received(): string;
  /** Resolves with the ms from connecting until the server closed the socket. */
  closed: Promise<number>;
}

export async function rawConnect(port: number, host = '127.0.0.1'): Promise<RawConnection> {
  const socket = connect(port, host);
  const started = performance.now();
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (text += chunk));
  // A reset (ECONNRESET) is a close as well.
  socket.on('error', () => {});
  const closed = once(socket, 'close').then(() => performance.now() - started);
  await once(socket, 'connect');
  return { socket, received: () => text, closed };
}
