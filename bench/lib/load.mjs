/**
 * Load drivers, run in the bench process against targets in other processes: autocannon for
 * throughput at N connections, and a sequential loop on one keep-alive connection for latency with
 * microsecond resolution (autocannon's histogram counts whole milliseconds).
 */
import http from 'node:http';
import autocannon from 'autocannon';

/**
 * A target: `url` (origin + path), `method`, `headers`, and `request(i)` → `{ path?, body? }` for the
 * i-th request (rotating over ids), or undefined for a fixed request.
 */

/** Requests/s and latency at `connections` for `seconds`; autocannon's own figures. */
export async function throughput(target, { connections, seconds }) {
  let i = 0;
  const result = await autocannon({
    url: target.url,
    method: target.method,
    headers: target.headers,
    body: target.body,
    connections,
    duration: seconds,
    pipelining: 1,
    ...(target.request && {
      requests: [
        {
          setupRequest(request) {
            const next = target.request(i++);
            if (next.path !== undefined) request.path = next.path;
            if (next.body !== undefined) request.body = next.body;
            return request;
          },
        },
      ],
    }),
  });
  return {
    rps: result.requests.average,
    requests: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

/** One request on `agent`; resolves with the status and body text. */
function once(agent, url, target, i) {
  const next = target.request?.(i) ?? {};
  const body = next.body ?? target.body;
  const path = next.path ?? new URL(url).pathname + new URL(url).search;
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        agent,
        method: target.method ?? 'GET',
        path,
        headers: { ...target.headers, ...(body !== undefined && { 'content-length': Buffer.byteLength(body) }) },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode, text }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/**
 * Sequential requests on one keep-alive connection for `seconds` (at most `maxRequests`): median and
 * p99 latency in ms, from `process.hrtime`. `check(text)` validates a sample of the answers.
 */
export async function serialLatency(target, { seconds, maxRequests = 200_000, check }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const samples = [];
  const deadline = performance.now() + seconds * 1000;
  let failures = 0;
  try {
    for (let i = 0; i < maxRequests && performance.now() < deadline; i++) {
      const start = process.hrtime.bigint();
      const { status, text } = await once(agent, target.url, target, i);
      const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
      if (status !== 200 || (i % 97 === 0 && check && !check(text))) failures++;
      samples.push(elapsed);
    }
  } finally {
    agent.destroy();
  }
  samples.sort((a, b) => a - b);
  const at = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  return { requests: samples.length, p50: at(0.5), p99: at(0.99), failures };
}

/** Checks a few answers of a target before it is measured: a bench of error replies measures nothing. */
export async function verifyTarget(target, check, count = 5) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let i = 0; i < count; i++) {
      const { status, text } = await once(agent, target.url, target, i * 7919);
      if (status !== 200 || !check(text)) throw new Error(`${target.label}: unexpected answer ${status} ${text.slice(0, 500)}`);
    }
  } finally {
    agent.destroy();
  }
}
