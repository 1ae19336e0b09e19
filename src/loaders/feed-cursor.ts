/**
 * The one cursor of a merged feed: every source's position (see feed.ts), bound to the feed it came
 * from (the list, its sources, its filter) by a digest, so a cursor of another feed, another list or
 * another set of sources is refused with BAD_USER_INPUT rather than read as positions it never held.
 * base64url JSON like the other cursors (relay.ts), with a larger bound: it carries up to 20 positions.
 */
import { createHash } from 'node:crypto';
import { badUserInput } from '../errors.js';
import { START, type SourcePosition } from './feed.js';

/**
 * An adapter's position fits in a list's own Relay cursor (at most 1,024 base64 characters, relay.ts),
 * so in fewer than 768 characters; a feed carries two per source, for up to 20 sources, in base64.
 */
const MAX_POSITION_LENGTH = 768;
const MAX_CURSOR_LENGTH = 48 * 1024;
/** The most a `consumed` count can be: one upstream page. */
const MAX_CONSUMED = 1000;
/** The range of a JavaScript date, in ms. */
const MAX_TIME = 8.64e15;

/** What a feed is: its kind (`builds`), its filter, and its sources' keys in their canonical order. */
export function feedBinding(list: string, filter: readonly string[], sourceKeys: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify([list, filter, sourceKeys])).digest('base64url').slice(0, 16);
}

type Encoded = 0 | [string | null, number, string | null, number | null];

export function encodeFeedCursor(binding: string, positions: readonly SourcePosition[]): string {
  const encoded: Encoded[] = positions.map((p) => (p === 'done' ? 0 : [p.page, p.consumed, p.last, p.head]));
  return Buffer.from(JSON.stringify(['feed', binding, encoded])).toString('base64url');
}

const isPosition = (value: unknown): value is string | null =>
  value === null || (typeof value === 'string' && value.length > 0 && value.length <= MAX_POSITION_LENGTH);

/** The positions a cursor of this feed holds, one per source; BAD_USER_INPUT for anything else. */
export function decodeFeedCursor(binding: string, sources: number, cursor: string): SourcePosition[] {
  const refuse = () => badUserInput('`after` is not a cursor of this feed (these sources and this scope)', { argument: 'after' });
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw refuse();
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw refuse();
  }
  if (!Array.isArray(decoded) || decoded.length !== 3 || decoded[0] !== 'feed' || decoded[1] !== binding) throw refuse();
  const entries: unknown = decoded[2];
  if (!Array.isArray(entries) || entries.length !== sources) throw refuse();
  return entries.map((entry: unknown): SourcePosition => {
    if (entry === 0) return 'done';
    if (!Array.isArray(entry) || entry.length !== 4) throw refuse();
    const [page, consumed, last, head] = entry as unknown[];
    if (head !== null && (typeof head !== 'number' || !Number.isFinite(head) || Math.abs(head) > MAX_TIME)) throw refuse();
    if (!isPosition(page) || !isPosition(last)) throw refuse();
    if (typeof consumed !== 'number' || !Number.isInteger(consumed) || consumed < 0 || consumed > MAX_CONSUMED) throw refuse();
    // Something given means a position after it, and nothing given none.
    if ((consumed > 0) !== (last !== null)) throw refuse();
    return consumed === 0 && page === null && head === null ? START : { page, consumed, last, head };
  });
}
