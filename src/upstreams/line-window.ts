/**
 * A window of a line-numbered log (bk-ci) cut from lines already read, with `readTrace`'s meaning:
 * `limit` lines numbered `offset` or more, `nextOffset` after the last of them, and `atEnd` when fewer
 * than `limit` were left. Cutting a narrower window out of a wider read gives what reading it alone
 * would: a read that stopped at its limit holds every line a window inside it needs.
 */
import type { NumberedLine, TraceSlice } from '../model.js';

/**
 * `readToEnd`: the lines run to the end of the log (the read was not cut short by its limit).
 * `size`: the whole log's size (the next line number the upstream will write), not the window's end.
 */
export function linesWindow(lines: readonly NumberedLine[], offset: number, limit: number, readToEnd: boolean, size: number): TraceSlice {
  const picked: NumberedLine[] = [];
  for (const line of lines) {
    if (line.lineNo < offset) continue;
    if (picked.length === limit) break;
    picked.push(line);
  }
  const next = picked.length > 0 ? picked[picked.length - 1]!.lineNo + 1 : offset;
  return {
    offset,
    nextOffset: next,
    content: picked.map((line) => line.text).join(''),
    // A window past the end has no line to vouch for a larger size than the log's own.
    size: picked.length > 0 ? Math.max(size, next) : size,
    atEnd: readToEnd && picked.length < limit,
    numberedLines: picked,
  };
}
