/**
 * Drives the simulator's clock from the bench (`POST /__sim/tick`; the simulator is started with a
 * clock that never ticks on its own), so the moment each piece of log is written is known: the tick
 * runs inside that request, after it was sent. After each tick a `HEAD` of the log (its own route in
 * `/__sim/stats`, apart from the gateways' `GET`) reads the new length. Steps are `[sentAt, length]`:
 * a subscriber's delivery delay measured from `sentAt` is high by at most the tick's round trip, which
 * is recorded too. The simulator's log carries only whole-second timestamps, too coarse for this.
 */
import http from 'node:http';
import { headLogLength, now, sleep } from './http.mjs';

/** The simulator's longest `--tick-ms`: its own timer then never fires during a bench. */
export const NEVER_MS = 2_147_483_647;

function postTick(agent, simUrl) {
  return new Promise((resolve, reject) => {
    const request = http.request(`${simUrl}/__sim/tick`, { method: 'POST', agent, headers: { 'content-length': 0 } }, (response) => {
      response.resume();
      response.on('end', () => (response.statusCode === 204 ? resolve() : reject(new Error(`POST /__sim/tick: ${response.statusCode}`))));
    });
    request.on('error', reject);
    request.end();
  });
}

/**
 * Ticks every `tickMs` on a fixed schedule (a late tick does not push the later ones back) until
 * `stop()`; `retime(ms)` changes the period.
 */
export function startClock({ simUrl, traceUrl, headers, tickMs }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const steps = [];
  const roundTrips = [];
  let errors = 0;
  let running = true;
  let last = -1;
  let period = tickMs;
  let origin;
  let n;
  const loop = (async () => {
    origin = now();
    const deadline = origin + 3_600_000;
    // Bounded: stops when asked, or after an hour whatever happens.
    for (n = 1; running && now() < deadline; n++) {
      try {
        const sentAt = now();
        await postTick(agent, simUrl);
        roundTrips.push(now() - sentAt);
        const length = await headLogLength(agent, traceUrl, headers);
        if (length !== last) {
          steps.push([sentAt, length]);
          last = length;
        }
      } catch {
        errors++;
      }
      const wait = origin + n * period - now();
      if (wait > 0) await sleep(wait);
    }
  })();
  return {
    steps,
    roundTrips,
    /** Ticks every `ms` from the next tick on. */
    retime(ms) {
      origin = now() - n * ms;
      period = ms;
    },
    async stop() {
      running = false;
      await loop;
      agent.destroy();
      return errors;
    },
  };
}
