/**
 * Which credentials arrived with each counted API request, by upstream and route, so tests can prove
 * that a GitLab token never reaches bk-ci and a bk-ci identity never reaches GitLab. It records the
 * headers and query parameters either API accepts a credential in, whatever the route makes of them.
 * Off until a test starts it (`POST /__sim/credentials/start`), so benchmarks' REST baseline pays
 * nothing for it; bounded: only the latest `capacity` requests are kept.
 */
import type { IncomingMessage } from 'node:http';
import type { Upstream } from './pipeline.js';

/** Every place GitLab or bk-ci takes a credential from. */
const CREDENTIAL_HEADERS = ['private-token', 'authorization', 'job-token', 'x-devops-uid', 'x-bkapi-authorization'] as const;
const CREDENTIAL_PARAMS = ['private_token', 'access_token', 'job_token'] as const;

export interface CredentialRecord {
  readonly upstream: Upstream;
  /** The stats key, e.g. `GET /api/v4/projects/:id/jobs`. */
  readonly route: string;
  /** Header or query parameter name (lower case; parameters as `?name`) → value. Empty: no credential. */
  readonly credentials: Readonly<Record<string, string>>;
}

export class CredentialLog {
  readonly #records: CredentialRecord[] = [];
  #recording = false;

  constructor(private readonly capacity = 1000) {}

  record(upstream: Upstream, route: string, req: IncomingMessage): void {
    if (!this.#recording) return;
    const credentials: Record<string, string> = {};
    for (const name of CREDENTIAL_HEADERS) {
      const value = req.headers[name];
      if (typeof value === 'string') credentials[name] = value;
    }
    const url = req.url ?? '';
    const mark = url.indexOf('?');
    if (mark !== -1) {
      const query = new URLSearchParams(url.slice(mark + 1));
      for (const name of CREDENTIAL_PARAMS) {
        const value = query.get(name);
        if (value !== null) credentials[`?${name}`] = value;
      }
    }
    if (this.#records.length >= this.capacity) this.#records.shift();
    this.#records.push({ upstream, route, credentials });
  }

  snapshot(): CredentialRecord[] {
    return [...this.#records];
  }

  get recording(): boolean {
    return this.#recording;
  }

  /** Forgets what was recorded and records from now on. */
  start(): void {
    this.#records.length = 0;
    this.#recording = true;
  }

  /** Stops recording and forgets. */
  stop(): void {
    this.#records.length = 0;
    this.#recording = false;
  }
}
