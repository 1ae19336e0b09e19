/** The tail for an upstream's trace unit. */
import type { TraceUnit } from '../model.js';
import { ByteTail } from './byte-tail.js';
import { LineTail } from './line-tail.js';
import type { TraceTail } from './tail.js';

/** `maxSize`: bytes (GitLab) or characters (bk-ci) held. */
export function createTail(unit: TraceUnit, start: number, maxSize: number): TraceTail {
  return unit === 'BYTES' ? new ByteTail(start, maxSize) : new LineTail(start, maxSize);
}
