/**
 * Bookkeeping for graphql-sse's single-connection mode, which graphql-sse itself leaves unbounded: a
 * `PUT` makes a reservation that holds state (and every event its operations queue) until its `GET`
 * stream opens, which an attacker never does. Here reservations are counted per client address and in
 * all, and one whose stream has not opened within `ttlMs` is expired. Events queued on any graphql-sse
 * stream are counted in bytes (`Backlog`) until the stream delivers them.
 */

export interface ReservationLimits {
  /** ms a reservation waits for its stream to open. */
  ttlMs: number;
  /** Reservations (and the streams they became) at once, in all. */
  max: number;
  /** The same, from one client address. */
  maxPerClient: number;
}

/** A reservation being made: confirmed with its token once graphql-sse created it, else released. */
export interface Claim {
  confirm(token: string): void;
  release(): void;
}

interface Reservation {
  client: string;
  timer: NodeJS.Timeout | undefined;
}

export class Reservations {
  readonly #limits: ReservationLimits;
  readonly #expire: (token: string) => void;
  readonly #byToken = new Map<string, Reservation>();
  readonly #perClient = new Map<string, number>();
  /** Claims plus reservations: a claim holds its slot while graphql-sse answers the PUT. */
  #count = 0;

  /** `expire` must end the reservation in graphql-sse and then call `end(token)`. */
  constructor(limits: ReservationLimits, expire: (token: string) => void) {
    this.#limits = limits;
    this.#expire = expire;
  }

  get size(): number {
    return this.#count;
  }

  /** A slot for a new reservation from `client`, or the name of the limit that refuses it. */
  claim(client: string): Claim | 'maxReservations' | 'maxReservationsPerClient' {
    if (this.#count >= this.#limits.max) return 'maxReservations';
    const mine = this.#perClient.get(client) ?? 0;
    if (mine >= this.#limits.maxPerClient) return 'maxReservationsPerClient';
    this.#count += 1;
    this.#perClient.set(client, mine + 1);
    let settled = false;
    return {
      confirm: (token) => {
        if (settled) return;
        settled = true;
        const timer = setTimeout(() => this.#expire(token), this.#limits.ttlMs);
        timer.unref();
        this.#byToken.set(token, { client, timer });
      },
      release: () => {
        if (settled) return;
        settled = true;
        this.#free(client);
      },
    };
  }

  has(token: string): boolean {
    return this.#byToken.has(token);
  }

  /** Every reservation's token (to end them all at shutdown). */
  tokens(): string[] {
    return [...this.#byToken.keys()];
  }

  /** Its stream opened: it no longer expires, and counts until the stream ends. */
  opened(token: string): void {
    const reservation = this.#byToken.get(token);
    if (!reservation) return;
    clearTimeout(reservation.timer);
    reservation.timer = undefined;
  }

  /** The reservation (or its stream) is gone from graphql-sse. */
  end(token: string): void {
    const reservation = this.#byToken.get(token);
    if (!reservation) return;
    clearTimeout(reservation.timer);
    this.#byToken.delete(token);
    this.#free(reservation.client);
  }

  #free(client: string): void {
    this.#count -= 1;
    const left = (this.#perClient.get(client) ?? 1) - 1;
    if (left > 0) this.#perClient.set(client, left);
    else this.#perClient.delete(client);
  }
}

/**
 * Bytes of events one stream has queued and not yet delivered. graphql-sse queues a stream's events in
 * order, so each delivered event is the oldest queued one.
 */
export class Backlog {
  #sizes: number[] = [];
  #head = 0;
  bytes = 0;

  queued(size: number): void {
    this.#sizes.push(size);
    this.bytes += size;
  }

  delivered(): void {
    if (this.#head >= this.#sizes.length) return;
    this.bytes -= this.#sizes[this.#head]!;
    this.#head += 1;
    if (this.#head > 1024 && this.#head * 2 > this.#sizes.length) {
      this.#sizes = this.#sizes.slice(this.#head);
      this.#head = 0;
    }
  }
}
