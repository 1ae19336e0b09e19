/**
 * A build's log as a stream of lines, read through the adapter's `streamTrace` and never held whole:
 * what `Build.logSearch` and `Build.failure` scan. Each line comes with its number, its offset (a byte
 * offset for GitLab, the upstream's line number for bk-ci) and its text as it reads on screen, with the
 * GitLab sections open around it. The scan stops at a byte bound; running out of the operation's
 * upstream budget midway ends it the same way (a partial answer says so) rather than failing it.
 */
import { stripVTControlCharacters } from 'node:util';
import { SECTION_MARKER } from './sections.js';
import { UpstreamBudgetError } from '../upstreams/errors.js';
import type { BuildModel, TraceSlice } from '../model.js';
import type { CallContext, Upstream } from '../upstreams/types.js';

/** A line longer than this is matched (and kept) over its first this-many bytes only. */
export const MAX_LINE_BYTES = 1024 * 1024;
/** Lines handed back to clients are cut at this many characters. */
export const MAX_RESULT_CHARS = 4096;

export interface LogLine {
  /** 1-based. */
  lineNumber: number;
  offset: number;
  /** Escapes, section markers and carriage returns removed. */
  plain: string;
  /** Innermost last; a copy only when asked for (`sectionPath`). */
  readonly sections: readonly string[];
}

export interface ScanLimits {
  /** Bytes of log text the scan may read. */
  maxBytes: number;
}

export interface ScanOutcome {
  scannedBytes: number;
  /** The limit that stopped the scan before the log's end, if one did. */
  truncatedBy: 'maxSearchBytes' | 'maxUpstreamBytes' | 'maxUpstreamCalls' | undefined;
  endReached: boolean;
}

/** Says whether to go on after a line: false stops the scan (the stream is closed, nothing more is read). */
export type LineVisitor = (line: LogLine) => boolean;

const NEWLINE = 0x0a;
// Our own fixed expressions, never a client's.
const CARRIAGE_RETURNS = /\r/g;

// The CSI sequences (SGR colours, erase-line) that make up nearly every escape in a CI log: cheaper
// than Node's stripper, which knows every escape a terminal does and still gets what this leaves.
const CSI = /\u001b\[[0-?]*[ -/]*[@-~]/g;

export function plainText(raw: string): string {
  let text = raw;
  if (text.includes('section_')) text = text.replace(SECTION_MARKER, '');
  if (text.includes('\u001b')) {
    text = text.replace(CSI, '');
    if (text.includes('\u001b')) text = stripVTControlCharacters(text);
  } else if (text.includes('\u009b')) text = stripVTControlCharacters(text);
  if (text.includes('\r')) text = text.replace(CARRIAGE_RETURNS, '');
  return text;
}

export const cutForResult = (text: string): string => (text.length > MAX_RESULT_CHARS ? text.slice(0, MAX_RESULT_CHARS) : text);

/** GitLab's open sections, from the markers of each raw line. */
class SectionStack {
  readonly open: string[] = [];

  /** Applies the line's `section_start` markers; returns its `section_end` names, applied by `close`. */
  enter(raw: string): string[] | undefined {
    if (!raw.includes('section_')) return undefined;
    let ends: string[] | undefined;
    for (const match of raw.matchAll(SECTION_MARKER)) {
      const name = match[3]!.toLowerCase();
      if (match[1] === 'start') this.open.push(name);
      else (ends ??= []).push(name);
    }
    return ends;
  }

  /** A section ends with the line its end marker is on: that line is still inside it. */
  close(ends: string[] | undefined): void {
    for (const name of ends ?? []) {
      const at = this.open.lastIndexOf(name);
      // An end without its start (a log read from the middle) closes nothing.
      if (at >= 0) this.open.length = at;
    }
  }
}

/**
 * Streams the build's log from its start and hands `visit` each line, until `visit` says stop, the log
 * ends, or `limits.maxBytes` would be passed. Throws what the first upstream read throws (nothing was
 * scanned yet); a budget that runs out later ends the scan as truncated.
 */
export async function scanLog(
  adapter: Upstream,
  call: CallContext,
  build: BuildModel,
  limits: ScanLimits,
  visit: LineVisitor,
): Promise<ScanOutcome> {
  const budget = call.budget;
  // Stop short of the byte budget by what one more read may bring, so a search leaves the operation's
  // other fields their budget instead of tripping it (bk-ci's JSON pages cost more than their text).
  const slack = budget ? Math.min(256 * 1024, Math.floor(budget.bytesLeft / 8)) : 0;
  const budgetBound = budget ? Math.max(0, budget.bytesLeft - slack) : Number.POSITIVE_INFINITY;
  const maxBytes = Math.min(limits.maxBytes, budgetBound);
  const boundBy = limits.maxBytes <= budgetBound ? 'maxSearchBytes' : 'maxUpstreamBytes';
  const sections = new SectionStack();
  const lines = adapter.traceUnit === 'BYTES' ? new ByteLines() : new NumberedLines();
  let scanned = 0;
  let lineNumber = 0;
  let stopped = false;
  let truncatedBy: ScanOutcome['truncatedBy'];

  const emit = (raw: string, bytes: number, offset: number): boolean => {
    if (scanned + bytes > maxBytes) {
      truncatedBy = boundBy;
      return false;
    }
    scanned += bytes;
    lineNumber += 1;
    const ends = sections.enter(raw);
    const go = visit({ lineNumber, offset, plain: plainText(raw), sections: sections.open });
    sections.close(ends);
    return go;
  };

  const stream = adapter.streamTrace(call, build.projectId, build.locator, { offset: 0, attempt: build.attempt });
  try {
    for await (const slice of stream) {
      if (!lines.push(slice, emit)) {
        stopped = true;
        break;
      }
    }
    if (!stopped && !lines.flush(emit)) stopped = true;
  } catch (error) {
    if (!(error instanceof UpstreamBudgetError) || scanned === 0) throw error;
    truncatedBy = error.limit;
    stopped = true;
  }
  return { scannedBytes: scanned, truncatedBy, endReached: !stopped };
}

type Emit = (raw: string, bytes: number, offset: number) => boolean;

/** GitLab: bytes, cut at newlines; a line split across reads is joined; offsets are byte offsets. */
class ByteLines {
  /** The current line's first MAX_LINE_BYTES bytes seen so far, from earlier reads. */
  #carry: Buffer[] = [];
  #carryBytes = 0;
  /** Whether a line began in an earlier read and has not ended. */
  #open = false;
  #lineStart = 0;
  #end = 0;

  push(slice: TraceSlice, emit: Emit): boolean {
    const bytes = slice.bytes ?? Buffer.from(slice.content);
    // Decoded once per read, not once per line: a newline is one byte and one UTF-16 unit, so the
    // string and its bytes are cut at the same newlines, and a line is a slice of the string.
    const text = slice.content;
    if (!this.#open) this.#lineStart = slice.offset;
    this.#end = slice.offset + bytes.length;
    let position = 0;
    let at = 0;
    for (;;) {
      const newline = bytes.indexOf(NEWLINE, position);
      if (newline === -1) break;
      const textNewline = text.indexOf('\n', at);
      let raw: string;
      if (!this.#open) raw = text.slice(at, Math.min(textNewline, at + MAX_LINE_BYTES));
      else {
        this.#keep(bytes.subarray(position, newline));
        raw = Buffer.concat(this.#carry).toString('utf8');
      }
      const start = this.#lineStart;
      const next = slice.offset + newline + 1;
      this.#reset(next);
      if (!emit(raw, next - start, start)) return false;
      position = newline + 1;
      at = textNewline + 1;
    }
    if (position < bytes.length) {
      this.#keep(bytes.subarray(position));
      this.#open = true;
    }
    return true;
  }

  /** The last line, when the log does not end with a newline. */
  flush(emit: Emit): boolean {
    if (!this.#open) return true;
    const raw = Buffer.concat(this.#carry).toString('utf8');
    const start = this.#lineStart;
    this.#reset(this.#end);
    return emit(raw, this.#end - start, start);
  }

  #keep(part: Buffer): void {
    const room = MAX_LINE_BYTES - this.#carryBytes;
    const kept = part.length <= room ? part : part.subarray(0, room);
    // A copy: the stream's buffer may be reused once we return.
    if (kept.length > 0) this.#carry.push(Buffer.from(kept));
    this.#carryBytes += kept.length;
  }

  #reset(next: number): void {
    this.#carry = [];
    this.#carryBytes = 0;
    this.#open = false;
    this.#lineStart = next;
  }
}

/**
 * bk-ci: every slice is whole numbered lines, joined with newlines; an offset is a line number. A
 * slice's `offset` is where its read started, not its first line's number (bk-ci numbers from 1), but
 * `nextOffset` is one past its last line, and a build's lines are numbered without gaps.
 */
class NumberedLines {
  push(slice: TraceSlice, emit: Emit): boolean {
    const texts = slice.content.split('\n');
    if (texts.at(-1) === '') texts.pop();
    const first = slice.nextOffset - texts.length;
    for (let i = 0; i < texts.length; i++) {
      const raw = texts[i]!;
      const kept = raw.length > MAX_LINE_BYTES ? raw.slice(0, MAX_LINE_BYTES) : raw;
      if (!emit(kept, Buffer.byteLength(raw) + 1, first + i)) return false;
    }
    return true;
  }

  flush(): boolean {
    return true;
  }
}
