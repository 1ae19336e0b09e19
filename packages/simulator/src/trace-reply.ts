/**
 * The job log reply, shared by v4 `…/jobs/:job_id/trace` and v3 `…/builds/:build_id/trace`. GitLab
 * sends the whole log with 200 every time and ignores `Range` (GL `lib/api/ci/jobs.rb`); that is the
 * default. With `traceRange` on, one `Range: bytes=N-` or `bytes=N-M` is honoured as RFC 9110 §14
 * says: 206 with `Content-Range`, or 416 with an unsatisfied `Content-Range` (`bytes *` then
 * `/TOTAL`) when N is at or past the end. Suffix ranges (`bytes=-N`), several ranges, other units,
 * malformed values and any request with `If-Range` (our validator is weak and there is no
 * Last-Modified, so it can never match, §13.1.5) get the whole log with 200. Offsets count bytes of
 * the UTF-8 log, so a range may split a character.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { LogBytes } from './byte-log.js';
import type { Headers, Reply } from './http.js';

/** One satisfiable-looking `first-[last]` range; `last` inclusive, undefined for "to the end". */
export interface ByteRange {
  readonly first: number;
  readonly last: number | undefined;
}

const RANGE_SPEC = /^(\d{1,15})-(\d{1,15})?$/;

/**
 * A `Range` header holding exactly one `bytes` range with a first position; anything else is
 * undefined (the whole log is sent). Empty list elements are skipped, as RFC 9110 §5.6.1 asks.
 */
export function parseByteRange(value: string | undefined): ByteRange | undefined {
  if (value === undefined) return undefined;
  const eq = value.indexOf('=');
  if (eq === -1 || value.slice(0, eq).toLowerCase() !== 'bytes') return undefined;
  const specs = value
    .slice(eq + 1)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (specs.length !== 1) return undefined;
  const m = RANGE_SPEC.exec(specs[0] as string);
  if (!m) return undefined;
  const first = Number(m[1]);
  const last = m[2] === undefined ? undefined : Number(m[2]);
  // "A byte-range-spec is invalid if the last-pos value is present and less than the first-pos."
  if (last !== undefined && last < first) return undefined;
  return { first, last };
}

export interface TraceReplyInput {
  readonly jobId: number;
  /** The log as it is now (a view: it does not grow while the reply is written). */
  readonly log: LogBytes;
  readonly headers: IncomingHttpHeaders;
  /** Honour `Range` (the `traceRange` setting); off, every read is 200 with the whole log. */
  readonly ranges: boolean;
}

export function traceReply({ jobId, log, headers, ranges }: TraceReplyInput): Reply {
  const total = log.length;
  const validators: Headers = { etag: `W/"${jobId}-${total}"` };
  if (ranges) validators['accept-ranges'] = 'bytes';
  const range = ranges && headers['if-range'] === undefined ? parseByteRange(headers.range) : undefined;
  if (range && range.first >= total) {
    return { status: 416, headers: { ...validators, 'content-range': `bytes */${total}` }, body: '' };
  }
  const entity: Headers = { 'content-type': 'text/plain', 'content-disposition': `infile; filename="${jobId}.log"`, ...validators };
  if (!range) return { status: 200, headers: entity, body: log.pieces(0, total) };
  const last = Math.min(range.last ?? total - 1, total - 1);
  return {
    status: 206,
    headers: { ...entity, 'content-range': `bytes ${range.first}-${last}/${total}` },
    body: log.pieces(range.first, last + 1),
  };
}
