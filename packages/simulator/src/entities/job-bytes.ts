/**
 * Job entities as JSON bytes, shared by the v3 and v4 APIs: each job's bytes are encoded once and kept
 * until the job or its pipeline changes (their `rev`), and a list page is those bytes joined, because
 * benchmarks hammer single jobs and list pages.
 */
import { LRUCache } from 'lru-cache';
import type { Job } from '../model.js';

interface Cached {
  readonly rev: number;
  readonly pipelineRev: number;
  /** Which rendering of the job the bytes are (v3's commit shape); '' where there is one. */
  readonly variant: string;
  readonly body: Buffer;
}

export class JobBytesCache {
  readonly #entries = new LRUCache<number, Cached>({ max: 10_000 });

  get(job: Job, variant = ''): Buffer | undefined {
    const hit = this.#entries.get(job.id);
    return hit && hit.rev === job.rev && hit.pipelineRev === job.pipeline.rev && hit.variant === variant ? hit.body : undefined;
  }

  set(job: Job, body: Buffer, variant = ''): void {
    this.#entries.set(job.id, { rev: job.rev, pipelineRev: job.pipeline.rev, variant, body });
  }
}

const OPEN = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']');

/** A JSON array of values already encoded as JSON bytes. */
export function jsonArrayBytes<T>(items: readonly T[], bytesOf: (item: T) => Buffer): Buffer {
  const parts: Buffer[] = [OPEN];
  items.forEach((item, i) => {
    if (i > 0) parts.push(COMMA);
    parts.push(bytesOf(item));
  });
  parts.push(CLOSE);
  return Buffer.concat(parts);
}
