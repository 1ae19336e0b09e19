/**
 * A `redis-server` of the bench's own on a free loopback port, keeping nothing on disk (the JS twin of
 * test/helpers/redis-server.ts). It is tracked like every other child, so it dies with the bench.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { track } from './procs.mjs';

async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resolves once the server accepts connections: `{url, port, pid, name, exit, output(), stop()}`. */
export async function startRedisServer({ timeoutMs = 10_000 } = {}) {
  const port = await freePort();
  const child = track(
    spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmpdir()], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let output = '';
  const keep = (chunk) => {
    output += chunk;
    if (output.length > 20_000) output = output.slice(-10_000);
  };
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  const handle = {
    name: 'redis-server',
    pid: child.pid,
    port,
    url: `redis://127.0.0.1:${port}`,
    exit: undefined,
    output: () => output,
    async stop() {
      if (handle.exit) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
  child.once('exit', (code, signal) => (handle.exit = { code, signal }));
  child.once('error', (error) => {
    handle.exit ??= { error: error.message };
    keep(`${error.message}\n`);
  });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server not ready within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const settle = (error) => {
      clearTimeout(timer);
      child.stdout.off('data', check);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve();
    };
    const check = () => {
      if (/Ready to accept connections/.test(output)) settle();
    };
    const onExit = () => settle(new Error(`redis-server exited before it was ready (is it installed?): ${JSON.stringify(handle.exit)}\n${output}`));
    child.stdout.on('data', check);
    child.once('exit', onExit);
    child.once('error', onExit);
    check();
  });
  return handle;
}
